"""docs/cli.md is generated from the code where it can drift: the exit codes, the error classes, every --help."""

from __future__ import annotations

import re
from pathlib import Path

from flowcase.cli import docs
from flowcase.errors import EXIT_MEANINGS, error_classes

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_the_generated_sections_are_up_to_date() -> None:
    current = DOC.read_text(encoding="utf-8")
    assert docs.render(current) == current, "docs/cli.md is stale: run `python -m flowcase.cli.docs`"


def test_every_error_class_has_its_exit_code_in_the_table() -> None:
    """Read the table as a reader would (not through the generator) and compare with each class."""
    text = DOC.read_text(encoding="utf-8")
    codes = {int(m.group(1)) for m in re.finditer(r"^\| (\d) \| ", text, re.M)}
    assert codes == set(EXIT_MEANINGS)
    rows = {}
    for m in re.finditer(r"^\| `([\w.]+)` \| \w* \| (\d) \| (\d{3}) \| `([\w-]+)` \|", text, re.M):
        rows[m.group(1).rsplit(".", 1)[1]] = (int(m.group(2)), int(m.group(3)), m.group(4))
    docs.import_all()
    classes = error_classes()
    assert len(classes) >= 30
    for cls in classes:
        assert rows.get(cls.__qualname__) == (cls.exit_code, cls.http_status, cls.api_code), cls
        assert cls.exit_code in EXIT_MEANINGS and cls.exit_code != 0, cls


def test_every_command_has_its_help_in_the_reference() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in ("validate", "generate", "publish", "jira setup", "jira save", "db upgrade", "requirements"):
        assert f"### `flowcase {name}`" in text, name
