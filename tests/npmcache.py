"""npm packages the tests need (axe-core for the accessibility tests, the ADF JSON schema for the Jira contract),
installed once into a gitignored ``.cache`` folder; nothing is fetched while a test runs."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import NoReturn

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
if str(BENCHMARKS) not in sys.path:  # the benchmarks' modules (npm_install, and the benchmarks tests run)
    sys.path.append(str(BENCHMARKS))

from npm_install import npm_install  # noqa: E402


def npm_cached(package: str, prefix: Path, wanted: Path, *, require_env: str, no_npm: str) -> Path:
    """``wanted`` (a file of the pinned npm ``package``), installing the package into ``prefix`` first if it is not
    there. Without npm (``no_npm`` says what for) or when the install fails, the test is skipped, or fails when the
    environment variable ``require_env`` is 1 (CI)."""

    def give_up(message: str) -> NoReturn:
        if os.environ.get(require_env) == "1":
            pytest.fail(message)
        pytest.skip(message)

    if not wanted.exists() and shutil.which("npm") is None:
        give_up(no_npm)
    problem = npm_install([package], prefix, wanted)
    if problem is not None:
        give_up(problem)
    return wanted
