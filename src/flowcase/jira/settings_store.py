"""Publishing settings, kept in Jira: app property (site defaults) overlaid by a project property.

``flowcase-settings`` in the app's own properties (Connect only: Basic-auth callers cannot read them and fall
back to defaults) and in the project's properties (needs project admin to write). Nothing is stored locally.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from flowcase.errors import SettingsError as SettingsError
from flowcase.jira.client import JiraClient, JiraError

SETTINGS_KEY = "flowcase-settings"
LABEL = re.compile(r"[^\s]{1,255}")

OutputStyle = Literal["steps-table", "gherkin", "bullets"]
# Where tests are published (docs/targets.md): plain Jira issues (the default), Xray Cloud tests, or Zephyr Scale
# Cloud test cases.
Target = Literal["jira", "xray", "zephyr"]
TARGETS: tuple[Target, ...] = ("jira", "xray", "zephyr")
# What an Xray test is: manual steps (action, data, expected result) or a Cucumber test whose definition is the
# Gherkin scenario (docs/targets.md).
XrayTestType = Literal["manual", "cucumber"]
XRAY_TEST_TYPES: tuple[XrayTestType, ...] = ("manual", "cucumber")


class PublishSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    issue_type: str = Field(default="Test", min_length=1, max_length=255, description="Issue type of test issues.")
    link_type: str = Field(default="Test", min_length=1, max_length=255, description="Story -> test link type.")
    requirement_link_type: str = Field(default="Test", min_length=1, max_length=255)
    labels: tuple[str, ...] = Field(default=(), description="Extra labels on every test issue.")
    output_style: OutputStyle = "steps-table"
    target: Target = Field(default="jira", description="Publishing target: jira, xray or zephyr.")
    xray_test_type: XrayTestType = Field(
        default="manual", description="With target xray: manual tests (steps) or cucumber tests (Gherkin)."
    )

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for label in value:
            if not LABEL.fullmatch(label):
                raise ValueError(f"label {label!r} must be 1-255 characters without spaces")
        return tuple(dict.fromkeys(value))


def parse(data: Any) -> PublishSettings:
    if data is None:
        return PublishSettings()
    if not isinstance(data, dict):
        raise SettingsError("settings must be a JSON object")
    try:
        return PublishSettings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SettingsError(f"invalid setting {where}: {first['msg']}") from exc


async def _read(client: JiraClient, entity: str, entity_id: str) -> dict[str, Any]:
    try:
        value = await client.get_property(entity, entity_id, SETTINGS_KEY)
    except JiraError as exc:
        if exc.status in (401, 403):  # e.g. app properties over Basic auth
            return {}
        raise
    return value if isinstance(value, dict) else {}


async def load_settings(
    client: JiraClient, *, app_key: str | None = None, project_key: str | None = None
) -> PublishSettings:
    """Defaults, overlaid by the app property, overlaid by the project property."""
    merged: dict[str, Any] = {}
    if app_key:
        merged.update(await _read(client, "app", app_key))
    if project_key:
        merged.update(await _read(client, "project", project_key))
    return parse(merged)


async def save_settings(
    client: JiraClient,
    settings: PublishSettings | dict[str, Any],
    *,
    app_key: str | None = None,
    project_key: str | None = None,
) -> PublishSettings:
    """Write to the project (when ``project_key``) or else the app property."""
    value = settings if isinstance(settings, PublishSettings) else parse(settings)
    body = value.model_dump(mode="json")
    if project_key:
        await client.put_property("project", project_key, SETTINGS_KEY, body)
    elif app_key:
        await client.put_property("app", app_key, SETTINGS_KEY, body)
    else:
        raise SettingsError("save_settings needs a project key or the app key")
    return value
