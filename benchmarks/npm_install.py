"""Pinned npm packages for the tests and benchmarks that compare flowcase with Node programs (elkjs, PICT, ACE,
axe-core, the ADF schema): installed once into a gitignored cache folder, never while flowcase runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def npm_install(packages: list[str], prefix: Path, wanted: Path, *options: str) -> str | None:
    """Install ``packages`` into ``prefix`` unless ``wanted`` (a file they bring) exists. None when it is there,
    otherwise why it is not (npm is missing, or the end of npm's error)."""
    if wanted.exists():
        return None
    npm = shutil.which("npm")
    if npm is None:
        return f"npm is needed to install {' '.join(packages)}"
    prefix.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", *options, "--prefix", str(prefix), *packages],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0 or not wanted.exists():
        return f"npm install {' '.join(packages)} failed: {(done.stderr or done.stdout)[-500:]}"
    return None
