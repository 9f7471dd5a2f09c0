"""Fixed site configuration: issue types and issue link types (as on a fresh Jira Cloud software site)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class IssueType:
    id: int
    name: str
    description: str
    hierarchy_level: int = 0


@dataclass(frozen=True, slots=True)
class LinkType:
    id: int
    name: str
    inward: str
    outward: str


ISSUE_TYPES = (
    IssueType(10001, "Story", "Functionality or a feature expressed as a user goal."),
    IssueType(10002, "Task", "A small, distinct piece of work."),
    IssueType(10003, "Bug", "A problem or error."),
    IssueType(10004, "Test", "A test case: steps and expected results."),
    IssueType(10000, "Epic", "A collection of related bugs, stories, and tasks.", 1),
)
LINK_TYPES = (
    LinkType(10000, "Blocks", "is blocked by", "blocks"),
    LinkType(10001, "Cloners", "is cloned by", "clones"),
    LinkType(10002, "Duplicate", "is duplicated by", "duplicates"),
    LinkType(10003, "Relates", "relates to", "relates to"),
    LinkType(10004, "Test", "is tested by", "tests"),
)


def issue_type(ref: object) -> IssueType | None:
    """Look up by id (int or numeric string) or by name (case-insensitive), as Jira accepts both."""
    text = str(ref).strip()
    for it in ISSUE_TYPES:
        if text == str(it.id) or text.lower() == it.name.lower():
            return it
    return None


def link_type(ref: object) -> LinkType | None:
    text = str(ref).strip()
    for lt in LINK_TYPES:
        if text == str(lt.id) or text.lower() == lt.name.lower():
            return lt
    return None
