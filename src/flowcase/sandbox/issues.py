"""Issues: creation and editing rules (as Jira validates them) and their JSON representation."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from flowcase.sandbox import catalog
from flowcase.sandbox.adf import AdfError, validate_adf
from flowcase.sandbox.catalog import IssueType, LinkType, issue_type, next_id
from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.models import Attachment, Issue, IssueLink, IssueProperty, Project
from flowcase.sandbox.site import DEMO_USER, now

SETTABLE = frozenset({"project", "issuetype", "summary", "description", "labels", "reporter"})
PROPERTY_VALUE_LIMIT = 32768
ISSUE_PROPERTY_KEY_LIMIT = 255
APP_PROPERTY_KEY_LIMIT = 127


def iso(value: Any) -> str:
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}+0000"


def find_project(session: Session, ref: object) -> Project | None:
    text = str(ref).strip()
    if text.isdigit():
        return session.get(Project, int(text))
    return session.scalar(select(Project).where(Project.key == text.upper()))


def find_issue(session: Session, ref: str) -> Issue | None:
    if ref.isdigit():
        return session.get(Issue, int(ref))
    return session.scalar(select(Issue).where(Issue.key == ref.upper()))


def issue_with_project(session: Session, key: str) -> tuple[Issue, Project] | None:
    """The issue with this key (as written: no id, no case folding) and its project; None when there is none."""
    issue = session.scalar(select(Issue).where(Issue.key == key))
    if issue is None:
        return None
    project = session.get(Project, issue.project_id)
    assert project is not None
    return issue, project


def get_project(session: Session, ref: str) -> Project:
    """The project with this key or id, or Jira's 404."""
    project = find_project(session, ref)
    if project is None:
        raise JiraHTTPError(404, f"No project could be found with key '{ref}'.")
    return project


def get_issue(session: Session, ref: str) -> Issue:
    issue = find_issue(session, ref)
    if issue is None:
        raise JiraHTTPError(404, "Issue does not exist or you do not have permission to see it.")
    return issue


def _ref(value: Any, *names: str) -> Any:
    if isinstance(value, dict):
        for name in names:
            if value.get(name) not in (None, ""):
                return value[name]
    return None


def _check_labels(labels: Any, errors: dict[str, str]) -> list[str] | None:
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        errors["labels"] = "Labels must be a list of strings."
        return None
    for label in labels:
        if not label or any(ch.isspace() for ch in label):
            errors["labels"] = f"The label '{label}' contains spaces which is invalid."
            return None
        if len(label) > 255:
            errors["labels"] = "The label must not exceed 255 characters."
            return None
    return list(dict.fromkeys(labels))


def _check_summary(summary: Any, errors: dict[str, str]) -> str | None:
    if not isinstance(summary, str) or not summary.strip():
        errors["summary"] = "You must specify a summary of the issue."
        return None
    if "\n" in summary or "\r" in summary:
        errors["summary"] = "The summary is invalid because it contains newline characters."
        return None
    if len(summary) > 255:
        errors["summary"] = "Summary must be less than 255 characters."
        return None
    return summary


def _check_description(value: Any, errors: dict[str, str]) -> str | None:
    if value is None:
        return None
    try:
        validate_adf(value)
    except AdfError as exc:
        errors["description"] = str(exc)
        return None
    return json.dumps(value, separators=(",", ":"))


def check_property(key: str, raw: str, key_limit: int) -> Any:
    """The parsed value of an entity property, or a Jira-shaped 400."""
    if not key:
        raise JiraHTTPError(400, "The property key cannot be empty.")
    if len(key) > key_limit:
        raise JiraHTTPError(400, f"The property key cannot be longer than {key_limit} characters.")
    text = raw.strip()
    if len(text) > PROPERTY_VALUE_LIMIT:
        raise JiraHTTPError(400, f"The property value cannot be longer than {PROPERTY_VALUE_LIMIT} characters.")
    refused = JiraHTTPError(400, "The property value must be a valid, non-empty JSON value.")
    if not text:
        raise refused
    try:
        return json.loads(text)
    except ValueError:
        raise refused from None


def create_issue(session: Session, body: Any, *, link_limit: int = 500) -> Issue:
    """Create one issue from a Jira create body, or raise a 400 with Jira's field errors.

    Fields must be on the project's create screen; ``update.labels`` and ``update.issuelinks`` (``add`` with an
    ``outwardIssue`` or ``inwardIssue``) are applied as Jira applies them on create."""
    if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
        raise JiraHTTPError(400, "Issue fields are required (a JSON object with 'fields').")
    fields: dict[str, Any] = body["fields"]
    update: dict[str, Any] = body["update"] if isinstance(body.get("update"), dict) else {}
    errors: dict[str, str] = {}
    project_ref = _ref(fields.get("project"), "id", "key")
    project = find_project(session, project_ref) if project_ref is not None else None
    if project is None:
        errors["project"] = "Specify a valid project ID or key"
    on_screen = set(catalog.screen_fields(project)) if project is not None else set(catalog.CREATE_SCREEN)
    for name in fields:
        if name not in SETTABLE or name not in on_screen:
            errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
    for name in update:
        if name not in ("labels", "issuelinks") or name not in on_screen:
            errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
    type_ref = _ref(fields.get("issuetype"), "id", "name")
    itype = issue_type(session, type_ref, project) if type_ref is not None and project is not None else None
    if itype is None and "project" not in errors:
        errors["issuetype"] = (
            "Specify an issue type"
            if type_ref is None
            else (
                "Specify a valid issue type"
                if issue_type(session, type_ref) is None
                else "The issue type selected is invalid."
            )
        )
    summary = _check_summary(fields.get("summary"), errors)
    description = _check_description(fields.get("description"), errors)
    labels = _check_labels(fields.get("labels", []), errors)
    properties = body.get("properties", [])
    parsed_props: list[tuple[str, str]] = []
    if not isinstance(properties, list):
        errors["properties"] = "Properties must be a list of {key, value}."
    else:
        for prop in properties:
            if not isinstance(prop, dict) or not isinstance(prop.get("key"), str) or "value" not in prop:
                errors["properties"] = "Each property needs a key and a value."
                break
            raw = json.dumps(prop["value"], separators=(",", ":"))
            try:
                check_property(prop["key"], raw, ISSUE_PROPERTY_KEY_LIMIT)
            except JiraHTTPError as exc:
                errors["properties"] = "; ".join(exc.messages)
                break
            parsed_props.append((prop["key"], raw))
    new_links = _link_ops(session, update.get("issuelinks"), errors) if "issuelinks" not in errors else []
    if errors:
        raise JiraHTTPError(400, errors=errors)
    assert project is not None and itype is not None and summary is not None and labels is not None
    if "labels" in update:
        labels = apply_label_ops(labels, update["labels"])
    number = project.next_number
    project.next_number += 1
    stamp = now()
    issue = Issue(
        id=next_id(session, Issue.id, 10001),
        key=f"{project.key}-{number}",
        number=number,
        project_id=project.id,
        issuetype_id=itype.id,
        summary=summary,
        description=description,
        labels=json.dumps(labels),
        created=stamp,
        updated=stamp,
    )
    session.add(issue)
    session.flush()
    for key, raw in parsed_props:
        session.add(IssueProperty(issue_id=issue.id, key=key, value=raw))
    for lt, other, this_is_source in new_links:
        source, destination = (issue, other) if this_is_source else (other, issue)
        add_link(session, lt, source, destination, link_limit)
    return issue


def _link_ops(session: Session, ops: Any, errors: dict[str, str]) -> list[tuple[LinkType, Issue, bool]]:
    """``update.issuelinks`` of a create: (link type, other issue, whether the new issue is the source)."""
    if ops is None:
        return []
    out: list[tuple[LinkType, Issue, bool]] = []
    if not isinstance(ops, list):
        errors["issuelinks"] = "Issue link operations must be a list."
        return []
    for op in ops:
        add = op.get("add") if isinstance(op, dict) and len(op) == 1 else None
        if not isinstance(add, dict):
            errors["issuelinks"] = "Only the 'add' operation is supported when creating an issue."
            return []
        type_ref: dict[str, Any] = add["type"] if isinstance(add.get("type"), dict) else {}
        lt = catalog.link_type(session, type_ref.get("name") or type_ref.get("id") or "")
        if lt is None:
            errors["issuelinks"] = f"No issue link type with name '{type_ref.get('name') or type_ref.get('id')}' found."
            return []
        # "outwardIssue": the new issue shows the outward description towards it, i.e. it is the link's source.
        side = "outwardIssue" if "outwardIssue" in add else "inwardIssue"
        ref = add.get(side)
        other = find_issue(session, str(ref.get("key") or ref.get("id") or "")) if isinstance(ref, dict) else None
        if other is None:
            errors["issuelinks"] = "Issue does not exist or you do not have permission to see it."
            return []
        out.append((lt, other, side == "outwardIssue"))
    return out


def add_link(session: Session, lt: LinkType, source: Issue, destination: Issue, limit: int) -> bool:
    """Link ``source`` to ``destination``: the source shows the type's outward description ("blocks",
    "tests"), the destination the inward one ("is blocked by", "is tested by"). An identical link is not added
    twice (Jira answers "created" all the same): returns whether a link was added."""
    same = session.scalar(
        select(IssueLink).where(
            IssueLink.type_id == lt.id,
            IssueLink.inward_issue_id == source.id,
            IssueLink.outward_issue_id == destination.id,
        )
    )
    if same is not None:
        return False
    for issue in (source, destination):
        count = session.scalar(
            select(func.count())
            .select_from(IssueLink)
            .where(or_(IssueLink.inward_issue_id == issue.id, IssueLink.outward_issue_id == issue.id))
        )
        if (count or 0) >= limit:
            raise JiraHTTPError(413, f"Issue {issue.key} has reached the limit of {limit} links.")
    session.add(
        IssueLink(
            id=next_id(session, IssueLink.id, 10000),
            type_id=lt.id,
            inward_issue_id=source.id,
            outward_issue_id=destination.id,
        )
    )
    session.flush()
    return True


def apply_label_ops(labels: list[str], ops: Any) -> list[str]:
    if not isinstance(ops, list):
        raise JiraHTTPError(400, errors={"labels": "Label operations must be a list."})
    result = list(labels)
    for op in ops:
        if not isinstance(op, dict) or len(op) != 1:
            raise JiraHTTPError(400, errors={"labels": "Each label operation has one verb: add, remove or set."})
        verb, value = next(iter(op.items()))
        errors: dict[str, str] = {}
        checked = _check_labels(value if verb == "set" else [value], errors)
        if checked is None or verb not in ("add", "remove", "set"):
            raise JiraHTTPError(400, errors=errors or {"labels": f"Unknown label operation '{verb}'."})
        if verb == "set":
            result = checked
        elif verb == "add" and value not in result:
            result.append(value)
        elif verb == "remove" and value in result:
            result.remove(value)
    return result


def edit_issue(session: Session, issue: Issue, body: Any) -> None:
    if not isinstance(body, dict):
        raise JiraHTTPError(400, "The request body must be a JSON object.")
    fields = body.get("fields", {}) or {}
    update = body.get("update", {}) or {}
    if not isinstance(fields, dict) or not isinstance(update, dict):
        raise JiraHTTPError(400, "'fields' and 'update' must be objects.")
    errors: dict[str, str] = {}
    for name in list(fields) + list(update):
        if name not in ("summary", "description", "labels"):
            errors[name] = f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."
    if "summary" in fields:
        summary = _check_summary(fields["summary"], errors)
        if summary is not None:
            issue.summary = summary
    if "description" in fields:
        description = _check_description(fields["description"], errors)
        if "description" not in errors:
            issue.description = description
    if "labels" in fields:
        labels = _check_labels(fields["labels"], errors)
        if labels is not None:
            issue.labels = json.dumps(labels)
    if errors:
        raise JiraHTTPError(400, errors=errors)
    if "labels" in update:
        issue.labels = json.dumps(apply_label_ops(json.loads(issue.labels), update["labels"]))
    issue.updated = now()


def issue_type_json(base: str, it: IssueType) -> dict[str, Any]:
    known = {"story", "task", "bug", "epic", "subtask", "test"}
    icon = it.name.lower() if it.name.lower() in known else "task"
    data: dict[str, Any] = {
        "self": f"{base}/rest/api/3/issuetype/{it.id}",
        "id": str(it.id),
        "name": it.name,
        "description": it.description,
        "subtask": it.subtask,
        "hierarchyLevel": it.hierarchy_level,
        "iconUrl": f"{base}/_sandbox/static/issuetype-{icon}.svg",
        "avatarId": 10300 + it.id % 100,
    }
    if it.project_id is not None:  # a team-managed project's own type
        data["scope"] = {"type": "PROJECT", "project": {"id": str(it.project_id)}}
        data["entityId"] = f"00000000-0000-4000-8000-{it.id:012d}"
    return data


def project_json(session: Session, base: str, project: Project, *, types: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "self": f"{base}/rest/api/3/project/{project.id}",
        "id": str(project.id),
        "key": project.key,
        "name": project.name,
        "projectTypeKey": "software",
        "simplified": project.style == "next-gen",
        "style": project.style,
        "isPrivate": False,
    }
    if types:
        data["issueTypes"] = [issue_type_json(base, it) for it in catalog.project_issue_types(session, project)]
    return data


def type_of(session: Session, issue: Issue) -> IssueType:
    it = catalog.issue_type_by_id(session, issue.issuetype_id)
    assert it is not None
    return it


def link_type_json(base: str, lt: Any) -> dict[str, Any]:
    return {
        "id": str(lt.id),
        "name": lt.name,
        "inward": lt.inward,
        "outward": lt.outward,
        "self": f"{base}/rest/api/3/issueLinkType/{lt.id}",
    }


def user_json(base: str, account_id: str, display_name: str) -> dict[str, Any]:
    return {
        "self": f"{base}/rest/api/3/user?accountId={account_id}",
        "accountId": account_id,
        "displayName": display_name,
        "active": True,
        "accountType": "atlassian",
    }


def _brief(session: Session, base: str, issue: Issue) -> dict[str, Any]:
    it = type_of(session, issue)
    return {
        "id": str(issue.id),
        "key": issue.key,
        "self": f"{base}/rest/api/3/issue/{issue.id}",
        "fields": {"summary": issue.summary, "status": STATUS, "issuetype": issue_type_json(base, it)},
    }


STATUS = {"name": "To Do", "id": "10000", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}}


def attachment_json(base: str, att: Attachment) -> dict[str, Any]:
    return {
        "self": f"{base}/rest/api/3/attachment/{att.id}",
        "id": str(att.id),
        "filename": att.filename,
        "author": user_json(base, DEMO_USER.account_id, DEMO_USER.display_name),
        "created": iso(att.created),
        "size": att.size,
        "mimeType": att.mime_type,
        "content": f"{base}/rest/api/3/attachment/content/{att.id}",
    }


def link_type_of(session: Session, link: IssueLink) -> LinkType:
    lt = catalog.link_type(session, link.type_id)
    if lt is None:  # the type was deleted: Jira would have moved the links; keep them readable
        return LinkType(link.type_id, "Unknown", "is linked to", "links to")
    return lt


def links_json(session: Session, base: str, issue: Issue) -> list[dict[str, Any]]:
    out = []
    rows = session.scalars(
        select(IssueLink)
        .where(or_(IssueLink.inward_issue_id == issue.id, IssueLink.outward_issue_id == issue.id))
        .order_by(IssueLink.id)
    )
    for link in rows:
        lt = link_type_of(session, link)
        entry: dict[str, Any] = {
            "id": str(link.id),
            "self": f"{base}/rest/api/3/issueLink/{link.id}",
            "type": link_type_json(base, lt),
        }
        if link.inward_issue_id == issue.id:
            other = session.get(Issue, link.outward_issue_id)
            if other is not None:
                entry["outwardIssue"] = _brief(session, base, other)
        else:
            other = session.get(Issue, link.inward_issue_id)
            if other is not None:
                entry["inwardIssue"] = _brief(session, base, other)
        out.append(entry)
    return out


def issue_fields(session: Session, base: str, issue: Issue, wanted: set[str] | None) -> dict[str, Any]:
    """The ``fields`` object; ``wanted`` None means all fields."""

    def want(name: str) -> bool:
        return wanted is None or name in wanted

    project = session.get(Project, issue.project_id)
    assert project is not None
    it = type_of(session, issue)
    fields: dict[str, Any] = {}
    simple: dict[str, Any] = {
        "summary": issue.summary,
        "description": json.loads(issue.description) if issue.description else None,
        "labels": json.loads(issue.labels),
        "status": STATUS,
        "created": iso(issue.created),
        "updated": iso(issue.updated),
        "reporter": user_json(base, DEMO_USER.account_id, DEMO_USER.display_name),
    }
    for name, value in simple.items():
        if want(name):
            fields[name] = value
    if want("issuetype"):
        fields["issuetype"] = issue_type_json(base, it)
    if want("project"):
        fields["project"] = project_json(session, base, project, types=False)
    if want("issuelinks"):
        fields["issuelinks"] = links_json(session, base, issue)
    if want("attachment"):
        rows = session.scalars(select(Attachment).where(Attachment.issue_id == issue.id).order_by(Attachment.id))
        fields["attachment"] = [attachment_json(base, a) for a in rows]
    return fields


def parse_field_list(values: list[str]) -> set[str] | None:
    names = {part.strip() for value in values for part in value.split(",") if part.strip()}
    if not names or "*all" in names or "*navigable" in names:
        return None
    return {n for n in names if not n.startswith("-")}


def issue_json(
    session: Session, base: str, issue: Issue, wanted: set[str] | None, properties: list[str] | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        "id": str(issue.id),
        "self": f"{base}/rest/api/3/issue/{issue.id}",
        "key": issue.key,
        "fields": issue_fields(session, base, issue, wanted),
    }
    if properties:
        data["properties"] = issue_properties(session, issue, properties)
    return data


def issue_properties(session: Session, issue: Issue, keys: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in keys:
        row = session.get(IssueProperty, (issue.id, key))
        if row is not None:
            out[key] = json.loads(row.value)
    return out
