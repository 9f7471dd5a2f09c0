"""Builds the Forge Custom UI resources from the same templates and static files the web app serves.

Each resource folder (``issue-panel``, ``editor``, ``project-page``, ``admin-page``) gets an ``index.html``
rendered in Forge mode plus a copy of ``static/``. The templates name their files through the same builder as
the web app (:mod:`flowcase.web.static_urls`), here with relative, content-hashed URLs (Forge serves each resource
from its own CDN path) and the page's script loaded through ``static/js/host-forge.js``, which connects to
``@forge/bridge`` first. Used by ``forge/build.py`` (before ``forge deploy``) and by the sandbox's Forge mode.
It lives in the web package (the pages are the web app's); hosts never import web.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from flowcase.web.api_models import export_choices
from flowcase.web.pages import TEMPLATES
from flowcase.web.static_urls import FORGE, STATIC

RESOURCES = {
    "issue-panel": ("issue.html", "issue.js"),
    "editor": ("editor.html", "editor.js"),
    "project-page": ("project.html", "project.js"),
    "admin-page": ("admin.html", "admin.js"),
}
ISSUE_PLACEHOLDER = "…"


def render(resource: str, app_key: str = "flowcase") -> str:
    template, _script = RESOURCES[resource]
    context = {
        "mode": "forge",
        "page": template.removesuffix(".html"),
        "issueKey": None,
        "projectKey": None,
        "isAdmin": resource == "admin-page",
        "exports": export_choices() if template == "editor.html" else [],
        "links": {"editor": "", "issue": "", "project": "", "admin": ""},
        "jiraUrl": "",
        "appKey": app_key,
    }
    return TEMPLATES.get_template(template).render(
        **FORGE.globals(),
        # issue-bound controls are rendered with a placeholder key; host-forge.js fills in the context's key
        title="flowcase",
        mode="connect",
        all_js=None,
        issue_key=ISSUE_PLACEHOLDER,
        project_key=None,
        context_json=json.dumps(context).replace("<", "\\u003c"),
        size_to_parent=template == "editor.html",
    )


def build(out: Path, app_key: str = "flowcase") -> list[Path]:
    """Write every resource folder under ``out`` (replacing what was there); returns the folders."""
    folders = []
    for resource in RESOURCES:
        folder = out / resource
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(STATIC, folder / "static")
        (folder / "index.html").write_text(render(resource, app_key), encoding="utf-8")
        folders.append(folder)
    return folders
