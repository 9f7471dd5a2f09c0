"""The sandbox's own tables (its own metadata and database, never the app's)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class SandboxBase(DeclarativeBase):
    pass


class Meta(SandboxBase):
    __tablename__ = "sb_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Project(SandboxBase):
    __tablename__ = "sb_project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    next_number: Mapped[int] = mapped_column(Integer, default=1)
    # "classic" (company-managed: site-wide issue types through the project's issue type scheme) or "next-gen"
    # (team-managed: issue types scoped to the project).
    style: Mapped[str] = mapped_column(String(16), default="classic")
    scheme_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hidden_fields: Mapped[str] = mapped_column(Text, default="[]")  # JSON list: fields not on the create screen


class IssueTypeRow(SandboxBase):
    """An issue type: site-wide (``project_id`` None) or scoped to one team-managed project."""

    __tablename__ = "sb_issue_type"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    hierarchy_level: Mapped[int] = mapped_column(Integer, default=0)
    project_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)


class SchemeItem(SandboxBase):
    """Issue type ``issuetype_id`` belongs to issue type scheme ``scheme_id`` (company-managed projects)."""

    __tablename__ = "sb_issue_type_scheme_item"
    scheme_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuetype_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class LinkTypeRow(SandboxBase):
    __tablename__ = "sb_link_type"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    inward: Mapped[str] = mapped_column(String(255))
    outward: Mapped[str] = mapped_column(String(255))


class Issue(SandboxBase):
    __tablename__ = "sb_issue"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    number: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[int] = mapped_column(ForeignKey("sb_project.id"), index=True)
    issuetype_id: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text, nullable=True)  # ADF as JSON text
    labels: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    created: Mapped[datetime] = mapped_column()
    updated: Mapped[datetime] = mapped_column()


class IssueLink(SandboxBase):
    __tablename__ = "sb_issue_link"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    type_id: Mapped[int] = mapped_column(Integer)
    # As Jira's POST /issueLink names them: the ``inwardIssue`` is the link's source (it shows the type's outward
    # description, e.g. "blocks"), the ``outwardIssue`` its destination (it shows "is blocked by").
    inward_issue_id: Mapped[int] = mapped_column(ForeignKey("sb_issue.id"), index=True)
    outward_issue_id: Mapped[int] = mapped_column(ForeignKey("sb_issue.id"), index=True)


class _EntityProperty:
    """The key and JSON text of an issue's or a project's entity property (its owner's id comes first)."""

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class IssueProperty(_EntityProperty, SandboxBase):
    __tablename__ = "sb_issue_property"
    issue_id: Mapped[int] = mapped_column(ForeignKey("sb_issue.id"), primary_key=True)


class AppProperty(SandboxBase):
    __tablename__ = "sb_app_property"
    addon_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(127), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Attachment(SandboxBase):
    __tablename__ = "sb_attachment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    issue_id: Mapped[int] = mapped_column(ForeignKey("sb_issue.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created: Mapped[datetime] = mapped_column()


class Installation(SandboxBase):
    __tablename__ = "sb_installation"
    __table_args__ = (UniqueConstraint("app_key"),)
    app_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    base_url: Mapped[str] = mapped_column(String(200))
    shared_secret: Mapped[str] = mapped_column(String(200))
    descriptor: Mapped[str] = mapped_column(Text)  # JSON
    installed_at: Mapped[datetime] = mapped_column()


class ProjectProperty(_EntityProperty, SandboxBase):
    __tablename__ = "sb_project_property"
    project_id: Mapped[int] = mapped_column(ForeignKey("sb_project.id"), primary_key=True)


class Comment(SandboxBase):
    __tablename__ = "sb_comment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    issue_id: Mapped[int] = mapped_column(ForeignKey("sb_issue.id"), index=True)
    author: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)  # ADF as JSON text
    created: Mapped[datetime] = mapped_column()
