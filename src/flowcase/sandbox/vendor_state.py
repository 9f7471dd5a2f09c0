"""What the sandbox's test-management stand-ins hold (in memory, one set per sandbox): Zephyr Scale and Xray."""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

DEFAULT_PRIORITY, DEFAULT_STATUS = 1, 1  # Zephyr's "Normal" and "Draft"


@dataclass
class TestCaseRow:
    id: int
    key: str
    project_id: int
    name: str
    objective: str | None = None
    precondition: str | None = None
    labels: list[str] = field(default_factory=list)
    folder_id: int | None = None
    priority_id: int = DEFAULT_PRIORITY
    status_id: int = DEFAULT_STATUS
    created_on: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, int]] = field(default_factory=list)  # {"id": link id, "issueId": Jira issue id}


@dataclass
class ZephyrState:
    """What the Zephyr stand-in holds (one per sandbox)."""

    test_cases: dict[str, TestCaseRow] = field(default_factory=dict)
    folders: dict[int, dict[str, Any]] = field(default_factory=dict)
    numbers: dict[int, int] = field(default_factory=dict)  # project id -> last test case number
    cycles: dict[str, dict[str, Any]] = field(default_factory=dict)  # test cycle key -> {id, key, projectId, name}
    executions: list[dict[str, Any]] = field(default_factory=list)  # test executions, in creation order
    counters: dict[tuple[str, int], int] = field(default_factory=dict)  # ("R"|"E", project id) -> last number
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.RLock = field(default_factory=threading.RLock)


@dataclass
class XrayState:
    """What the Xray stand-in holds: issued tokens, manual steps or the Gherkin definition per Test issue, the tests
    of each Test Set, and the test runs of each Test Execution (one per test, with its status)."""

    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (time.time())
    steps: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # Test issue id -> steps
    test_sets: dict[int, list[int]] = field(default_factory=dict)  # Test Set issue id -> Test issue ids
    test_types: dict[int, str] = field(default_factory=dict)  # Test issue id -> test type name (absent: Manual)
    gherkin: dict[int, str] = field(default_factory=dict)  # Test issue id -> Gherkin definition (Cucumber tests)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)  # test run id -> run (in creation order)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.RLock = field(default_factory=threading.RLock)
