"""npm packages the tests need (axe-core for the accessibility tests, the ADF JSON schema for the Jira contract),
installed once into a gitignored ``.cache`` folder; nothing is fetched while a test runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest


def npm_cached(package: str, prefix: Path, wanted: Path, *, require_env: str, no_npm: str) -> Path:
    """``wanted`` (a file of the pinned npm ``package``), installing the package into ``prefix`` first if it is not
    there. Without npm (``no_npm`` says what for) or when the install fails, the test is skipped, or fails when the
    environment variable ``require_env`` is 1 (CI)."""

    def give_up(message: str) -> NoReturn:
        if os.environ.get(require_env) == "1":
            pytest.fail(message)
        pytest.skip(message)

    if not wanted.exists():
        npm = shutil.which("npm")
        if npm is None:
            give_up(no_npm)
        prefix.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(prefix), package],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or not wanted.exists():
            give_up(f"npm install {package} failed: {(done.stderr or done.stdout)[-500:]}")
    return wanted
