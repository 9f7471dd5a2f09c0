"""Fixtures shared by the test files.

``sb``: a running sandbox Jira with the demo data, one per test module (a fresh Jira Cloud site: no "Test" issue
type or link type). A module marked ``pytestmark = pytest.mark.sandbox(setup=True)`` gets a site that is set up
for publishing instead. The sandbox serves on a free port of 127.0.0.1 and keeps its data in its own temporary
database, so modules (and pytest-xdist workers) never share one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from flowcase.sandbox.testing import RunningSandbox, running_sandbox


@pytest.fixture(scope="module")
def sb(request: pytest.FixtureRequest) -> Iterator[RunningSandbox]:
    marker = request.node.get_closest_marker("sandbox")
    setup = bool(marker.kwargs.get("setup", False)) if marker else False
    # The sandbox server runs in a thread of this process: switch threads more often than every 5 ms so that the
    # client and the server do not wait on each other for the GIL at every call (about 2x faster).
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        with running_sandbox(demo_data=True, setup=setup) as running:
            yield running
    finally:
        sys.setswitchinterval(previous)
