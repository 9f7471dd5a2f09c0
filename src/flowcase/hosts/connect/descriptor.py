"""The Connect app descriptor served at ``/atlassian-connect.json``.

Scopes (see docs/operations.md): READ (load designs from issue/project/app properties, search published tests),
WRITE (save designs and publish test issues and links), ADMIN (create the "Test" issue type and the link type
when an admin asks for it in the admin page).
"""

from __future__ import annotations

from typing import Any

from flowcase.config import Settings

LIFECYCLE_PATHS = {
    "installed": "/connect/lifecycle/installed",
    "uninstalled": "/connect/lifecycle/uninstalled",
    "enabled": "/connect/lifecycle/enabled",
    "disabled": "/connect/lifecycle/disabled",
}
SCOPES = ["READ", "WRITE", "ADMIN"]
SUMMARY_PROPERTY = "flowcase-summary"


def _name(text: str) -> dict[str, str]:
    return {"value": text}


def build_descriptor(settings: Settings) -> dict[str, Any]:
    key = settings.app_key
    icon = {"width": 24, "height": 24, "url": "/static/flowcase-icon.svg"}
    return {
        "key": key,
        "name": settings.app_name,
        "description": "Visual test design for Jira: draw a workflow, generate the smallest test suite, publish it.",
        "vendor": {"name": "flowcase", "url": settings.base_url},
        "baseUrl": settings.base_url,
        "links": {"self": f"{settings.base_url}/atlassian-connect.json", "homepage": settings.base_url},
        "authentication": {"type": "jwt"},
        "apiVersion": 1,
        "enableLicensing": settings.licence_policy != "off",
        "lifecycle": dict(LIFECYCLE_PATHS),
        "scopes": list(SCOPES),
        "apiMigrations": {"signed-install": True, "context-qsh": True, "gdpr": True},
        "modules": {
            "jiraIssueContents": [
                {
                    "key": f"{key}-issue-content",
                    "name": _name("Test design"),
                    "tooltip": _name("Design tests for this issue"),
                    "icon": icon,
                    "target": {
                        "type": "web_panel",
                        "url": "/connect/issue-panel?issueKey={issue.key}&projectKey={project.key}",
                    },
                    "contentPresentConditions": [
                        {
                            "condition": "entity_property_exists",
                            "params": {"entity": "issue", "propertyKey": SUMMARY_PROPERTY},
                        }
                    ],
                }
            ],
            "webPanels": [
                {
                    "key": f"{key}-issue-panel",
                    "name": _name("Test design"),
                    "location": "atl.jira.view.issue.right.context",
                    "url": "/connect/issue-panel?issueKey={issue.key}&projectKey={project.key}",
                    # Once the story has a workflow, the issue content above shows it; the side panel is the
                    # way in for stories without one, so the two never show at once.
                    "conditions": [
                        {"condition": "user_is_logged_in"},
                        {
                            "condition": "entity_property_exists",
                            "invert": True,
                            "params": {"entity": "issue", "propertyKey": SUMMARY_PROPERTY},
                        },
                    ],
                }
            ],
            "dialogs": [
                {
                    "key": f"{key}-editor",
                    "url": "/connect/editor?issueKey={issue.key}",
                    "options": {"size": "fullscreen", "chrome": False},
                }
            ],
            "generalPages": [
                {
                    "key": f"{key}-editor-page",
                    "name": _name("Test design editor"),
                    "url": "/connect/editor?issueKey={issue.key}",
                    "location": "none",
                }
            ],
            "jiraProjectPages": [
                {
                    "key": f"{key}-project",
                    "name": _name("Test design"),
                    "url": "/connect/project?projectKey={project.key}",
                    "iconUrl": "/static/flowcase-icon.svg",
                    "weight": 100,
                }
            ],
            "adminPages": [{"key": f"{key}-admin", "name": _name("flowcase settings"), "url": "/connect/admin"}],
            "jiraEntityProperties": [
                {
                    "key": f"{key}-summary-index",
                    "name": _name("flowcase test design summary"),
                    "entityType": "issue",
                    "keyConfigurations": [
                        {
                            "propertyKey": SUMMARY_PROPERTY,
                            "extractions": [
                                {"objectName": "status", "type": "string", "alias": "flowcaseStatus"},
                                {"objectName": "testCount", "type": "number", "alias": "flowcaseTestCount"},
                                {"objectName": "coverage", "type": "number", "alias": "flowcaseCoverage"},
                                {"objectName": "updatedAt", "type": "date", "alias": "flowcaseUpdated"},
                            ],
                        }
                    ],
                }
            ],
        },
    }
