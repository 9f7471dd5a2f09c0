"""Rewrite the generated versions of the examples: ``<name>.json`` and ``bpmn/<name>.bpmn`` from ``<name>.yaml``.

The YAML files are the sources (they carry the comments). Run after editing one, or after a change to the
JSON or BPMN writer: ``.venv/bin/python examples/regenerate.py``. ``tests/test_examples.py`` fails while a
generated file is out of date.
"""

from __future__ import annotations

from pathlib import Path

from flowcase.model.io import Format, dumps, load_path

HERE = Path(__file__).resolve().parent


def main() -> None:
    for source in sorted(HERE.glob("*.yaml")):
        model = load_path(source).model
        targets: tuple[tuple[Path, Format], ...] = (
            (HERE / f"{source.stem}.json", "json"),
            (HERE / "bpmn" / f"{source.stem}.bpmn", "bpmn"),
        )
        for target, fmt in targets:
            text = dumps(model, fmt)
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                target.parent.mkdir(exist_ok=True)
                target.write_text(text, encoding="utf-8")
                print(f"wrote {target.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
