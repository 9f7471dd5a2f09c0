"""Site configuration kept in the sandbox database, as on a fresh Jira Cloud site.

A fresh site has the default issue types (Epic, Story, Task, Bug, Subtask) and the default issue link types
(Blocks, Cloners, Duplicate, Relates): no "Test" issue type and no "Test" link type until an administrator creates
them (``POST /rest/api/3/issuetype``, ``POST /rest/api/3/issueLinkType``). A company-managed ("classic") project
uses the issue types of its issue type scheme; a new issue type must be added to that scheme before the project
can use it. A team-managed ("next-gen") project has its own, project-scoped issue types, which the public REST API
cannot add to (a project admin does that in the project's settings).

A project's create screen may lack fields (``hidden_fields``): setting one in a create call is a 400, as in Jira.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from flowcase.sandbox.models import IssueTypeRow, LinkTypeRow, Project, SchemeItem


@dataclass(frozen=True, slots=True)
class IssueType:
    id: int
    name: str
    description: str
    hierarchy_level: int = 0
    project_id: int | None = None

    @property
    def subtask(self) -> bool:
        return self.hierarchy_level < 0


@dataclass(frozen=True, slots=True)
class LinkType:
    id: int
    name: str
    inward: str
    outward: str


DEFAULT_ISSUE_TYPES = (
    IssueType(10000, "Epic", "A collection of related bugs, stories, and tasks.", 1),
    IssueType(10001, "Story", "Functionality or a feature expressed as a user goal."),
    IssueType(10002, "Task", "A small, distinct piece of work."),
    IssueType(10003, "Bug", "A problem or error."),
    IssueType(10004, "Subtask", "A small piece of work that's part of a larger task.", -1),
)
DEFAULT_LINK_TYPES = (
    LinkType(10000, "Blocks", "is blocked by", "blocks"),
    LinkType(10001, "Cloners", "is cloned by", "clones"),
    LinkType(10002, "Duplicate", "is duplicated by", "duplicates"),
    LinkType(10003, "Relates", "relates to", "relates to"),
)
# Fields of the default create screen (the ones the sandbox models); ``hidden_fields`` removes some.
CREATE_SCREEN = ("summary", "issuetype", "project", "description", "labels", "reporter", "issuelinks")
REQUIRED_ON_SCREEN = frozenset({"summary", "issuetype", "project"})


def seed(session: Session) -> None:
    """The fresh-site catalog, once per database."""
    if session.scalar(select(func.count()).select_from(LinkTypeRow)):
        return
    for it in DEFAULT_ISSUE_TYPES:
        session.add(
            IssueTypeRow(
                id=it.id, name=it.name, description=it.description, hierarchy_level=it.hierarchy_level, project_id=None
            )
        )
    for lt in DEFAULT_LINK_TYPES:
        session.add(LinkTypeRow(id=lt.id, name=lt.name, inward=lt.inward, outward=lt.outward))
    session.flush()


def _it(row: IssueTypeRow) -> IssueType:
    return IssueType(row.id, row.name, row.description, row.hierarchy_level, row.project_id)


def _lt(row: LinkTypeRow) -> LinkType:
    return LinkType(row.id, row.name, row.inward, row.outward)


def next_id(session: Session, column: Any, start: int) -> int:
    """The next free id of ``column`` (one past the largest, and at least ``start``)."""
    current: int | None = session.scalar(select(func.max(column)))
    return max(int(current or 0) + 1, start)


def all_issue_types(session: Session) -> list[IssueType]:
    """Every issue type of the site (site-wide and project-scoped), by id."""
    return [_it(r) for r in session.scalars(select(IssueTypeRow).order_by(IssueTypeRow.id))]


def issue_type_by_id(session: Session, type_id: int) -> IssueType | None:
    row = session.get(IssueTypeRow, type_id)
    return _it(row) if row is not None else None


def project_issue_types(session: Session, project: Project) -> list[IssueType]:
    """The issue types ``project`` can use: its scheme's (company-managed) or its own (team-managed)."""
    if project.style == "next-gen":
        rows = session.scalars(
            select(IssueTypeRow).where(IssueTypeRow.project_id == project.id).order_by(IssueTypeRow.id)
        )
        return [_it(r) for r in rows]
    ids = set(session.scalars(select(SchemeItem.issuetype_id).where(SchemeItem.scheme_id == project.scheme_id)))
    return [it for it in all_issue_types(session) if it.id in ids]


def issue_type(session: Session, ref: object, project: Project | None = None) -> IssueType | None:
    """Look up by id (int or numeric string) or by name (case-insensitive), as Jira accepts both. With a
    ``project``, only the types that project can use."""
    text = str(ref).strip()
    pool = project_issue_types(session, project) if project is not None else all_issue_types(session)
    for it in pool:
        if text == str(it.id) or text.lower() == it.name.lower():
            return it
    return None


def create_issue_type(session: Session, name: str, description: str, hierarchy_level: int) -> IssueType:
    row = IssueTypeRow(
        id=next_id(session, IssueTypeRow.id, 10000),
        name=name,
        description=description,
        hierarchy_level=hierarchy_level,
        project_id=None,
    )
    session.add(row)
    session.flush()
    return _it(row)


def link_types(session: Session) -> list[LinkType]:
    return [_lt(r) for r in session.scalars(select(LinkTypeRow).order_by(LinkTypeRow.id))]


def link_type(session: Session, ref: object) -> LinkType | None:
    text = str(ref).strip()
    row = session.scalar(
        select(LinkTypeRow).where(
            or_(func.lower(LinkTypeRow.name) == text.lower(), LinkTypeRow.id == (int(text) if text.isdigit() else -1))
        )
    )
    return _lt(row) if row is not None else None


def create_link_type(session: Session, name: str, inward: str, outward: str) -> LinkType:
    row = LinkTypeRow(id=next_id(session, LinkTypeRow.id, 10000), name=name, inward=inward, outward=outward)
    session.add(row)
    session.flush()
    return _lt(row)


def create_project(
    session: Session,
    key: str,
    name: str,
    *,
    project_id: int | None = None,
    style: str = "classic",
    hidden_fields: Sequence[str] = (),
) -> Project:
    """A project as Jira's software templates make it: company-managed with its own issue type scheme holding the
    default types, or team-managed with project-scoped copies of them."""
    if style not in ("classic", "next-gen"):
        raise ValueError("style must be 'classic' or 'next-gen'")
    hidden = [f for f in hidden_fields if f not in REQUIRED_ON_SCREEN]
    pid = project_id or next_id(session, Project.id, 10000)
    project = Project(id=pid, key=key, name=name, next_number=1, style=style, hidden_fields=json.dumps(hidden))
    session.add(project)
    session.flush()
    if style == "classic":
        scheme = next_id(session, SchemeItem.scheme_id, 10001)
        project.scheme_id = scheme
        for it in DEFAULT_ISSUE_TYPES:
            session.add(SchemeItem(scheme_id=scheme, issuetype_id=it.id))
    else:
        for it in DEFAULT_ISSUE_TYPES:
            if it.hierarchy_level == 1:
                continue  # team-managed projects show epics differently; not modelled
            session.add(
                IssueTypeRow(
                    id=next_id(session, IssueTypeRow.id, 10000),
                    name=it.name,
                    description=it.description,
                    hierarchy_level=it.hierarchy_level,
                    project_id=pid,
                )
            )
            session.flush()
    session.flush()
    return project


def screen_fields(project: Project) -> list[str]:
    hidden = set(json.loads(project.hidden_fields or "[]"))
    return [f for f in CREATE_SCREEN if f not in hidden]


def scheme_issue_type_ids(session: Session, scheme_id: int) -> list[int]:
    return list(
        session.scalars(
            select(SchemeItem.issuetype_id).where(SchemeItem.scheme_id == scheme_id).order_by(SchemeItem.issuetype_id)
        )
    )


def add_to_scheme(session: Session, scheme_id: int, type_ids: Sequence[int]) -> None:
    have = set(scheme_issue_type_ids(session, scheme_id))
    for type_id in type_ids:
        if type_id not in have:
            session.add(SchemeItem(scheme_id=scheme_id, issuetype_id=type_id))
            have.add(type_id)
    session.flush()
