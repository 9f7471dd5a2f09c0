#!/usr/bin/env python3
"""Re-fetch the vendored front-end libraries from the npm registry and record their checksums.

Usage: ``python scripts/vendor.py`` (re-vendor and rewrite ``vendor.json``/``VENDOR.md``) or
``python scripts/vendor.py --check`` (verify every vendored file against ``vendor.json``, no network).

Needs ``npm`` only for re-vendoring; nothing at run or test time does. Each tarball's sha512 is compared
with the integrity the registry publishes before any file is copied.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "src" / "flowcase" / "web" / "static" / "vendor"

# package, version, licence, files inside the tarball (relative to package/), note
PACKAGES: list[dict[str, object]] = [
    {
        "package": "bpmn-js",
        "version": "18.31.1",
        "license": "MIT (with the bpmn.io watermark clause: the 'powered by bpmn.io' logo must stay visible)",
        "files": [
            "LICENSE",
            "dist/bpmn-modeler.production.min.js",
            "dist/assets/diagram-js.css",
            "dist/assets/bpmn-js.css",
            "dist/assets/bpmn-font/css/bpmn.css",
            "dist/assets/bpmn-font/font/bpmn.eot",
            "dist/assets/bpmn-font/font/bpmn.svg",
            "dist/assets/bpmn-font/font/bpmn.ttf",
            "dist/assets/bpmn-font/font/bpmn.woff",
            "dist/assets/bpmn-font/font/bpmn.woff2",
        ],
    },
    {
        "package": "@atlaskit/css-reset",
        "version": "8.4.6",
        "license": "Apache-2.0",
        "files": ["LICENSE", "dist/bundle.css"],
    },
    {
        "package": "@atlaskit/reduced-ui-pack",
        "version": "19.1.4",
        "license": "Apache-2.0",
        "files": ["LICENSE", "dist/bundle.css"],
    },
]


def directory(package: str, version: str) -> str:
    return f"{package.lstrip('@').replace('/', '-')}-{version}"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch() -> None:
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in PACKAGES:
            name, version = str(spec["package"]), str(spec["version"])
            out = subprocess.run(  # noqa: S603
                ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", tmp],  # noqa: S607
                check=True, capture_output=True, text=True,
            )
            info = json.loads(out.stdout)[0]
            tgz = Path(tmp) / info["filename"]
            integrity = "sha512-" + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
            if integrity != info["integrity"]:
                sys.exit(f"{name}@{version}: tarball integrity {integrity} != registry {info['integrity']}")
            target = VENDOR / directory(name, version)
            if target.exists():
                shutil.rmtree(target)
            files = {}
            with tarfile.open(tgz) as tar:
                for rel in spec["files"]:  # type: ignore[attr-defined]
                    member = tar.getmember(f"package/{rel}")
                    data = tar.extractfile(member)
                    assert data is not None
                    dest = target / str(rel).removeprefix("dist/")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(data.read())
                    files[dest.relative_to(VENDOR).as_posix()] = sha256(dest)
            records.append({
                "package": name, "version": version, "license": spec["license"],
                "tarball": f"https://registry.npmjs.org/{name}/-/{name.split('/')[-1]}-{version}.tgz",
                "integrity": integrity, "directory": directory(name, version), "files": files,
            })
    (VENDOR / "vendor.json").write_text(json.dumps({"packages": records}, indent=2) + "\n")
    lines = ["# Vendored front-end libraries", "",
             "Prebuilt files copied unchanged from the npm registry tarballs by `scripts/vendor.py`;",
             "`python scripts/vendor.py --check` verifies them. No Node is needed to run or test.", ""]
    for r in records:
        lines += [f"## {r['package']} {r['version']}", "",
                  f"- licence: {r['license']} (see `{r['directory']}/LICENSE`)",
                  f"- tarball: {r['tarball']}", f"- integrity: `{r['integrity']}`", "- files (sha256):", ""]
        lines += [f"  - `{path}` `{digest}`" for path, digest in r["files"].items()]
        lines.append("")
    (VENDOR / "VENDOR.md").write_text("\n".join(lines))


def check() -> int:
    data = json.loads((VENDOR / "vendor.json").read_text())
    bad = [path for r in data["packages"] for path, digest in r["files"].items()
           if not (VENDOR / path).is_file() or sha256(VENDOR / path) != digest]
    for path in bad:
        print(f"checksum mismatch or missing: {path}")
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify vendored files, no network")
    sys.exit(check() if parser.parse_args().check else fetch())
