"""Before publishing: is the site ready (issue type, link types, create screen, permissions)? And the admin setup.

A fresh Jira Cloud site has no "Test" issue type and no "Test" link type. :func:`check` tells exactly what the
project lacks for the publish settings and how to fix each thing; publishing refuses to start until nothing is
missing (it never reports success with nothing created). :func:`setup` is what an administrator runs once (admin
page, ``flowcase jira setup``): with the ADMIN scope (Connect) or an admin's API token it creates the issue type
(and adds it to the project's issue type scheme) and the link types, or maps the settings to types that exist.

Four or five GETs, no writes: project, issue link types, the create screen's fields, the caller's permissions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowcase.jira.client import JiraClient
from flowcase.jira.settings_store import PublishSettings, save_settings

TEST_TYPE_DESCRIPTION = "A test case designed with flowcase: steps and expected results."
# The link type flowcase creates: a test "tests" its story; the story "is tested by" its tests.
LINK_INWARD, LINK_OUTWARD = "is tested by", "tests"
NEEDED_FIELDS = ("summary", "description", "labels")
NEEDED_PERMISSIONS = ("BROWSE_PROJECTS", "CREATE_ISSUES", "EDIT_ISSUES", "LINK_ISSUES")
ALL_PERMISSIONS = (*NEEDED_PERMISSIONS, "ADMINISTER", "ADMINISTER_PROJECTS")


@dataclass(frozen=True, slots=True)
class Problem:
    code: str  # project-missing | issue-type-missing | link-type-missing | field-not-on-screen | no-permission
    what: str  # what is missing (one sentence)
    fix: str  # how to fix it (one sentence)
    setup_fixes: bool = False  # the admin setup can fix it
    subject: str = ""  # the name of the missing thing

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "what": self.what, "fix": self.fix, "setupFixes": self.setup_fixes}


@dataclass(slots=True)
class Readiness:
    project_key: str
    settings: PublishSettings
    problems: list[Problem] = field(default_factory=list)
    project_id: str | None = None
    team_managed: bool = False
    issue_type_id: str | None = None
    link_on_create: bool = False  # "Linked Issues" is on the create screen: tests are linked in the create call
    silent_edits: bool = False  # may ask Jira not to notify watchers on edits
    admin: bool = False  # Administer Jira: can run the setup
    available_issue_types: list[str] = field(default_factory=list)
    available_link_types: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ready:
            return f"project {self.project_key} is ready for publishing"
        lines = [f"project {self.project_key} is not ready for publishing:"]
        lines += [f"- {p.what} Fix: {p.fix}" for p in self.problems]
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        return {
            "projectKey": self.project_key,
            "ready": self.ready,
            "problems": [p.as_json() for p in self.problems],
            "teamManaged": self.team_managed,
            "issueType": self.settings.issue_type,
            "linkType": self.settings.link_type,
            "requirementLinkType": self.settings.requirement_link_type,
            "linkOnCreate": self.link_on_create,
            "admin": self.admin,
            "availableIssueTypes": self.available_issue_types,
            "availableLinkTypes": self.available_link_types,
        }


def _find(items: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    return next((i for i in items if str(i.get("name", "")).lower() == name.lower()), None)


XRAY_TEST_SET = "Test Set"


async def check(client: JiraClient, project_key: str, settings: PublishSettings) -> Readiness:
    """What the site and project lack for publishing with ``settings`` (nothing is written)."""
    ready = Readiness(project_key, settings)
    project = await client.project(project_key)
    if project is None:
        ready.problems.append(
            Problem(
                "project-missing",
                f"Project {project_key} does not exist or you cannot see it.",
                "Check the project key and that you can browse the project.",
            )
        )
        return ready
    ready.project_id = str(project.get("id"))
    ready.team_managed = bool(project.get("simplified")) or project.get("style") == "next-gen"
    types = [t for t in project.get("issueTypes") or [] if isinstance(t, dict)]
    ready.available_issue_types = [str(t.get("name")) for t in types if int(t.get("hierarchyLevel") or 0) == 0]
    held = await client.my_permissions(project_key, ALL_PERMISSIONS)
    ready.admin = held.get("ADMINISTER", False)
    ready.silent_edits = held.get("ADMINISTER", False) or held.get("ADMINISTER_PROJECTS", False)
    missing = [p for p in NEEDED_PERMISSIONS if not held.get(p)]
    if missing:
        ready.problems.append(
            Problem(
                "no-permission",
                f"You lack the project permission(s) {', '.join(missing)} in {project_key}.",
                "A Jira admin grants them in the project's permission scheme (Project settings > Permissions).",
            )
        )
    if settings.target == "zephyr":
        return ready  # test cases live in Zephyr Scale: no Jira issue type, create screen or link type is needed
    if settings.target == "xray" and _find(types, XRAY_TEST_SET) is None:
        ready.problems.append(
            Problem(
                "issue-type-missing",
                f"Project {project_key} has no issue type '{XRAY_TEST_SET}' (Xray's).",
                f"A Jira admin installs Xray and enables it on {project_key} (Xray adds its issue types), "
                "or the project publishes to another target.",
                subject=XRAY_TEST_SET,
            )
        )
    wanted = _find(types, settings.issue_type)
    if wanted is None:
        if ready.team_managed:
            fix = (
                f"{project_key} is team-managed: a project admin adds a work type named '{settings.issue_type}' in "
                "Project settings > Issue types, or an admin maps the setting to an existing type "
                f"({', '.join(ready.available_issue_types)})."
            )
        else:
            fix = (
                f"A Jira admin runs the flowcase setup (it creates '{settings.issue_type}' and adds it to the "
                f"project's issue type scheme), or maps the setting to an existing type "
                f"({', '.join(ready.available_issue_types)})."
            )
        ready.problems.append(
            Problem(
                "issue-type-missing",
                f"Project {project_key} has no issue type '{settings.issue_type}'.",
                fix,
                setup_fixes=not ready.team_managed,
            )
        )
    else:
        ready.issue_type_id = str(wanted.get("id"))
        on_screen = {
            str(f.get("fieldId") or f.get("key")) for f in await client.create_fields(project_key, ready.issue_type_id)
        }
        for name in NEEDED_FIELDS:
            if name not in on_screen:
                ready.problems.append(
                    Problem(
                        "field-not-on-screen",
                        f"The field '{name}' is not on the create screen of '{settings.issue_type}' in {project_key}.",
                        f"A project admin adds '{name}' to that create screen (Project settings > Screens).",
                    )
                )
        ready.link_on_create = "issuelinks" in on_screen
    link_types = await client.link_types()
    ready.available_link_types = [str(t.get("name")) for t in link_types]
    for name in dict.fromkeys((settings.link_type, settings.requirement_link_type)):
        if _find(link_types, name) is None:
            ready.problems.append(
                Problem(
                    "link-type-missing",
                    f"The site has no issue link type '{name}'.",
                    f"A Jira admin runs the flowcase setup (it creates '{name}': {LINK_OUTWARD} / {LINK_INWARD}), "
                    f"or maps the setting to an existing link type ({', '.join(ready.available_link_types)}).",
                    setup_fixes=True,
                    subject=name,
                )
            )
    return ready


@dataclass(slots=True)
class SetupResult:
    actions: list[str]
    readiness: Readiness

    def as_json(self) -> dict[str, Any]:
        return {"actions": list(self.actions), "readiness": self.readiness.as_json()}


async def setup(
    client: JiraClient,
    project_key: str,
    settings: PublishSettings,
    *,
    use_issue_type: str | None = None,
    use_link_type: str | None = None,
) -> SetupResult:
    """Make ``project_key`` ready: create what is missing (admin rights needed), or map the settings to existing
    types (``use_issue_type``/``use_link_type``, saved as the project's flowcase settings). Idempotent."""
    actions: list[str] = []
    if use_issue_type or use_link_type:
        changes: dict[str, Any] = {}
        if use_issue_type:
            changes["issue_type"] = use_issue_type
        if use_link_type:
            changes["link_type"] = changes["requirement_link_type"] = use_link_type
        settings = settings.model_copy(update=changes)
        await save_settings(client, settings, project_key=project_key)
        actions.append(
            f"project {project_key} now publishes with "
            + ", ".join(f"{k.replace('_', ' ')} '{v}'" for k, v in changes.items())
        )
    ready = await check(client, project_key, settings)
    for problem in ready.problems:
        if problem.code == "issue-type-missing" and problem.setup_fixes and ready.project_id:
            existing = _find([t for t in await client.issue_types() if not t.get("scope")], settings.issue_type)
            if existing is None:
                existing = await client.create_issue_type(settings.issue_type, TEST_TYPE_DESCRIPTION)
                actions.append(f"created the issue type '{settings.issue_type}'")
            scheme = await client.issue_type_scheme_of(ready.project_id)
            if scheme is not None:
                await client.add_issue_types_to_scheme(scheme, [str(existing.get("id"))])
                actions.append(f"added '{settings.issue_type}' to the issue type scheme of {project_key}")
        elif problem.code == "link-type-missing":
            name = problem.subject
            if _find(await client.link_types(), name) is None:
                await client.create_link_type(name, LINK_INWARD, LINK_OUTWARD)
                actions.append(f"created the issue link type '{name}' ({LINK_OUTWARD} / {LINK_INWARD})")
    return SetupResult(actions, await check(client, project_key, settings) if actions else ready)


__all__ = ["Problem", "Readiness", "SetupResult", "check", "setup"]
