"""The search index lag: JQL search in Jira Cloud is eventually consistent.

An issue created less than ``lag`` seconds ago is not found by JQL yet; an issue changed less than ``lag`` seconds
ago is matched as it was before the change. Issue ids passed in ``reconcileIssues`` are matched as they are now
(Jira's read-after-write option for search). ``GET /issue/{key}`` is always current, as in Jira.

The index keeps, per issue with a change not yet "indexed", the time of the first such change and what the index
still holds (None for a new issue). With ``lag`` 0 nothing is kept and search is immediately consistent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flowcase.sandbox import jql
from flowcase.sandbox.adf import plain_text
from flowcase.sandbox.models import Issue, IssueProperty, Project

MAX_RECONCILE = 50


def _iso(value: Any) -> str:
    return f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}+0000"


def row_of(
    s: Session, issue: Issue, project: Project, type_names: dict[int, str], properties: dict[str, Any] | None = None
) -> jql.Row:
    """What JQL sees of one issue; ``properties`` None reads all of its entity properties."""
    if properties is None:
        properties = {
            p.key: json.loads(p.value)
            for p in s.scalars(select(IssueProperty).where(IssueProperty.issue_id == issue.id))
        }
    return jql.Row(
        id=issue.id,
        key=issue.key,
        number=issue.number,
        project_key=project.key,
        project_id=project.id,
        issuetype_id=issue.issuetype_id,
        issuetype_name=type_names.get(issue.issuetype_id, ""),
        summary=issue.summary,
        text=plain_text(json.loads(issue.description)) if issue.description else "",
        labels=json.loads(issue.labels),
        created=_iso(issue.created),
        updated=_iso(issue.updated),
        properties=properties,
    )


class SearchIndex:
    def __init__(self, lag: float = 0.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.lag = lag
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[float, jql.Row | None]] = {}

    def _expire(self, now: float) -> None:
        for issue_id in [i for i, (t, _) in self._pending.items() if now - t >= self.lag]:
            del self._pending[issue_id]

    def created(self, issue_id: int) -> None:
        """A new issue: invisible to search for ``lag`` seconds."""
        if self.lag <= 0:
            return
        with self._lock:
            self._pending.setdefault(issue_id, (self.clock(), None))

    def changing(self, issue_id: int, before: Callable[[], jql.Row]) -> None:
        """Call BEFORE changing an indexed field or property of an issue: search keeps the old version for a while."""
        if self.lag <= 0:
            return
        with self._lock:
            now = self.clock()
            self._expire(now)
            if issue_id not in self._pending:
                self._pending[issue_id] = (now, before())

    def settle(self) -> None:
        """Make everything visible now (as if the lag had passed)."""
        with self._lock:
            self._pending.clear()

    def visible(self, rows: Iterable[jql.Row], reconcile: set[int]) -> list[jql.Row]:
        """What search sees: the indexed version of each row (current for ``reconcile`` ids)."""
        out: list[jql.Row] = []
        with self._lock:
            now = self.clock()
            self._expire(now)
            pending = dict(self._pending)
        for row in rows:
            entry = pending.get(row.id)
            if entry is None or row.id in reconcile:
                out.append(row)
            elif entry[1] is not None:
                out.append(entry[1])
        return out


def snapshot(s: Session, issue: Issue) -> jql.Row:
    """The row search sees for ``issue`` now (with all its properties)."""
    from flowcase.sandbox.catalog import all_issue_types

    project = s.get(Project, issue.project_id)
    assert project is not None
    return row_of(s, issue, project, {it.id: it.name for it in all_issue_types(s)})
