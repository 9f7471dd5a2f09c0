"""CSV exports: read back with the csv module, every cell round-trips (quotes, commas, line breaks, UTF-8)."""

from __future__ import annotations

import csv
import io

from flowcase.export import ExportOptions, export
from flowcase.export.common import visible_steps
from flowcase.export.tables import GENERIC_COLUMNS, TESTRAIL_COLUMNS, XRAY_COLUMNS
from test_export_samples import NASTY, sample_suite


def read(text: str) -> list[dict[str, str]]:
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_generic_has_one_row_per_visible_step_with_the_id_on_every_row() -> None:
    suite = sample_suite()
    rows = read(export(suite, "csv").text)
    assert list(rows[0]) == list(GENERIC_COLUMNS)
    assert len(rows) == sum(len(visible_steps(t)) for t in suite.tests)
    for test in suite.tests:
        mine = [r for r in rows if r["Test ID"] == test.id]
        assert [r["Step"] for r in mine] == [str(n) for n in range(1, len(mine) + 1)]
        assert all(r["Test Name"] == test.name for r in mine)
        assert mine[0]["Priority"] == (test.priority or "") and all(r["Priority"] == "" for r in mine[1:])
    collected = [r for r in rows if r["Test ID"] == "TC-0a1b2c3d"]
    assert collected[0]["Test Data"].splitlines() == [
        "1: code = valid, size = S, paid = true",
        "2: code = valid, size = M, paid = true",
        "3: code = valid, size = L, paid = true",
    ]
    assert collected[1]["Workflow"] == "pay_check>verify" and collected[1]["Step Data"] == "paid = true"


def test_multiline_and_quoted_cells_round_trip() -> None:
    rows = read(export(sample_suite(), "csv").text)
    nasty = [r for r in rows if r["Test ID"] == "TC-8c9d0e1f"]
    assert nasty[0]["Test Name"] == NASTY
    assert nasty[1]["Action"] == NASTY
    assert nasty[0]["Expected Result"] == '"Wrong code | try again" is shown'


def test_bom_is_optional() -> None:
    plain = export(sample_suite(), "csv").text
    with_bom = export(sample_suite(), "csv", options=ExportOptions(bom=True)).text
    assert not plain.startswith("\ufeff") and with_bom == "\ufeff" + plain
    assert with_bom.encode("utf-8").startswith(b"\xef\xbb\xbf")


def test_xray_importer_layout() -> None:
    suite = sample_suite()
    rows = read(export(suite, "csv-xray", options=ExportOptions(folder="Lockers/Pickup")).text)
    assert list(rows[0]) == list(XRAY_COLUMNS)
    for test in suite.tests:
        mine = [r for r in rows if r["Issue Id"] == test.id]
        assert len(mine) == len(visible_steps(test))
        assert mine[0]["Test Summary"] and all(r["Test Summary"] == "" for r in mine[1:])
        assert all(r["Test Type"] == "Manual" for r in mine)
        assert [r["Action"] for r in mine] == [s.action or s.name for s in visible_steps(test)]
        assert f"flowcase-id:{test.id}" in mine[0]["Labels"].split(";")
        assert mine[0]["Test Repo"] == "Lockers/Pickup"
    first = rows[0]
    assert first["Test Priority"] == "Highest" and first["Links"] == "PICK-1"
    assert first["Labels"] == "flowcase-id:TC-0a1b2c3d;smoke;happy_path"
    assert "flowcase id: TC-0a1b2c3d" in first["Description"]
    assert [r["Data"] for r in rows[:3]] == ["code = valid", "paid = true", ""]


def test_testrail_multi_row_layout() -> None:
    suite = sample_suite()
    rows = read(export(suite, "csv-testrail").text)
    assert list(rows[0]) == list(TESTRAIL_COLUMNS)
    starts = [r for r in rows if r["Title"]]
    assert [r["Automation ID"] for r in starts] == [t.id for t in suite.tests]
    assert [r["Priority"] for r in starts] == ["Critical", "High", "Low"]
    assert starts[0]["Template"] == "Test Case (Steps)" and starts[0]["Section"] == "Parcel pickup at a locker"
    assert "Run once for each data variant" in starts[0]["Preconditions"]
    assert starts[0]["References"] == "PICK-1"
    assert len(rows) == sum(len(visible_steps(t)) for t in suite.tests)
    assert rows[0]["Steps (Step)"] == "Type the 6-digit code from the SMS.\nData: code = valid"
