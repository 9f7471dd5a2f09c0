"""The JSON bodies the API accepts (pydantic, bounded, unknown fields refused)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flowcase.generate.suite import Criterion
from flowcase.model.types import Scalar
from flowcase.web.documents import MAX_TEXT, EditorDoc

ISSUE_KEY_PATTERN = r"^[A-Z][A-Z0-9_]{0,49}-[1-9][0-9]{0,9}$"
PROJECT_KEY_PATTERN = r"^[A-Z][A-Z0-9_]{0,49}$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValidateBody(_Body):
    doc: EditorDoc
    tidy: bool = Field(default=False, description="/api/models/editor: drop the drawn layout and lay it out anew.")


class ImportBody(_Body):
    text: str = Field(max_length=MAX_TEXT)
    filename: str = Field(default="model.bpmn", max_length=255)


class GenerateBody(_Body):
    doc: EditorDoc
    criterion: Criterion = "all-decisions"
    options: dict[str, Scalar] = Field(default_factory=dict)


class ExportBody(GenerateBody):
    format: str = Field(pattern=r"^(model:)?[a-z0-9-]{1,32}$", description="'model:<fmt>' or a suite export format.")
    project: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{0,49}$")


class ResultsFile(_Body):
    name: str = Field(max_length=255)
    content: str = Field(max_length=3 * 1024 * 1024, description="The file's text (Xray JSON, JUnit XML, Cucumber).")


class ResultsBody(GenerateBody):
    files: list[ResultsFile] = Field(min_length=1, max_length=20)
    keys: dict[str, str] = Field(default_factory=dict, description="Test id -> issue key (Xray testKey matching).")


class SaveBody(_Body):
    doc: EditorDoc
    revision: int | None = Field(default=None, description="The revision the edit started from; None = new.")
    replace_damaged: bool = Field(
        default=False,
        alias="replaceDamaged",
        description="Replace a stored model that cannot be read back (after the user "
        "confirmed); refused when the stored model is healthy.",
    )


class RestoreBody(_Body):
    revision: int | None = Field(description="The current revision (the one being replaced by the previous).")


class SuiteBody(_Body):
    issue_key: str = Field(alias="issueKey", pattern=ISSUE_KEY_PATTERN)
    doc: EditorDoc
    criterion: Criterion = "all-decisions"
    options: dict[str, Scalar] = Field(default_factory=dict)


class RemoteResultsBody(SuiteBody):
    source: Literal["xray", "zephyr"] | None = Field(
        default=None, description="The test tool to read the results from (default: the project's target)."
    )


class SettingsBody(_Body):
    settings: dict[str, Any]


class SetupBody(_Body):
    project_key: str = Field(alias="projectKey", pattern=PROJECT_KEY_PATTERN)
    use_issue_type: str | None = Field(
        default=None,
        alias="useIssueType",
        min_length=1,
        max_length=255,
        description="Publish with this existing issue type instead of creating one.",
    )
    use_link_type: str | None = Field(
        default=None,
        alias="useLinkType",
        min_length=1,
        max_length=255,
        description="Link with this existing link type instead of creating one.",
    )


# A credential: one line of printable ASCII (what Xray and Zephyr Scale issue), bounded.
_CREDENTIAL = r"^[\x21-\x7e]{1,1024}$"


class XrayCredentialsBody(_Body):
    client_id: str = Field(alias="clientId", pattern=_CREDENTIAL)
    client_secret: str = Field(alias="clientSecret", pattern=_CREDENTIAL)


class ZephyrCredentialsBody(_Body):
    token: str = Field(pattern=_CREDENTIAL)


class VendorCredentialsBody(_Body):
    """New credentials of this site for Xray and/or Zephyr Scale (each replaces what was stored)."""

    xray: XrayCredentialsBody | None = None
    zephyr: ZephyrCredentialsBody | None = None
