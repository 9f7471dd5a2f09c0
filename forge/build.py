"""Build the Forge Custom UI resources into forge/build/ (run before `forge deploy`; see docs/forge.md).

Usage: python forge/build.py [--app-key flowcase]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from flowcase.web.forge_bundle import build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--app-key", default="flowcase")
    args = parser.parse_args()
    for folder in build(Path(__file__).resolve().parent / "build", args.app_key):
        print(f"built {folder}")


if __name__ == "__main__":
    main()
