"""Execution results back onto the design: read Xray JSON, JUnit XML or Cucumber JSON, map each result to a
generated test, and say per test and per diagram element what passed, failed or was not run.

Mapping a result to a test, first match wins:

1. the test's stable id anywhere in the result's name, class name, tags or Xray test info (``TC-1a2b3c4d``, or
   ``tc_1a2b3c4d`` as the pytest skeletons name functions; the Gherkin and Robot exports carry it in the name
   and the ``id:`` tag);
2. an issue key (Xray's ``testKey``) that the publish gave a test (``keys``: test id -> issue key);
3. the test's name, exactly (spaces folded).

Several results for one test (runs, iterations, examples): failed if any failed, else passed if any passed, else
not run. A test without a result is "not run". Results that match no test are listed, never guessed.

The heat of a diagram element (``workflow/node`` or the arrow ``workflow/node#decision``) counts the statuses of
the tests whose path passes it: where failures concentrate is the behaviour that fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from flowcase.export.common import one_line
from flowcase.export.diagram import path_of
from flowcase.generate.suite import Suite
from flowcase.model.types import Model

Status = Literal["passed", "failed", "not-run"]
STATUSES: tuple[Status, ...] = ("passed", "failed", "not-run")
Format = Literal["xray", "junit", "cucumber"]
MAX_BYTES = 20 * 1024 * 1024
_ID = re.compile(r"(?<![A-Za-z0-9])TC[-_]([0-9a-f]{6,64})(?![0-9a-f])", re.I)
_KEY = re.compile(r"\b[A-Z][A-Z0-9_]+-[1-9][0-9]*\b")

XRAY_STATUS: dict[str, Status] = {
    "PASSED": "passed",
    "PASS": "passed",
    "FAILED": "failed",
    "FAIL": "failed",
    "ABORTED": "failed",
    "TODO": "not-run",
    "EXECUTING": "not-run",
}


class ResultsError(ValueError):
    """A results file that cannot be read (one-line message naming the file)."""


@dataclass(frozen=True, slots=True)
class RawResult:
    """One result as the file states it: what names it, and its status."""

    name: str
    status: Status
    texts: tuple[str, ...] = ()  # other text that may carry the test id (class name, tags, test info)
    key: str | None = None  # Xray testKey
    message: str = ""  # the failure's first line


@dataclass(slots=True)
class Results:
    tests: dict[str, Status] = field(default_factory=dict)  # every test of the suite
    messages: dict[str, str] = field(default_factory=dict)  # test id -> first failure line
    unmatched: list[str] = field(default_factory=list)  # results that name no test
    matched: int = 0
    # test id -> where its status comes from, when read from a test tool: {key, status, execution, at}
    sources: dict[str, dict[str, str]] = field(default_factory=dict)

    def counts(self) -> dict[Status, int]:
        out: dict[Status, int] = dict.fromkeys(STATUSES, 0)
        for status in self.tests.values():
            out[status] += 1
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "tests": dict(self.tests),
            "messages": dict(self.messages),
            "unmatched": list(self.unmatched),
            "matched": self.matched,
            "counts": self.counts(),
            "sources": {k: dict(v) for k, v in self.sources.items()},
        }


@dataclass(frozen=True, slots=True)
class Heat:
    passed: int = 0
    failed: int = 0
    not_run: int = 0

    @property
    def level(self) -> str:
        """``fail`` (every run test through it failed), ``mixed``, ``pass`` or ``not-run`` (no test run)."""
        if self.failed and not self.passed:
            return "fail"
        if self.failed:
            return "mixed"
        return "pass" if self.passed else "not-run"

    def as_json(self) -> dict[str, Any]:
        return {"passed": self.passed, "failed": self.failed, "notRun": self.not_run, "level": self.level}


# -- reading ------------------------------------------------------------------------------------------------------


def detect(name: str, data: bytes) -> Format:
    text = data.lstrip()[:1]
    if text == b"<":
        return "junit"
    if text == b"[":
        return "cucumber"
    if text == b"{":
        return "xray"
    raise ResultsError(f"{name}: not a results file (Xray JSON, JUnit XML or Cucumber JSON)")


def read(name: str, data: bytes, fmt: Format | None = None) -> list[RawResult]:
    """The results in one file (``fmt`` detected from the content when not given)."""
    if len(data) > MAX_BYTES:
        raise ResultsError(f"{name}: larger than {MAX_BYTES // (1024 * 1024)} MB")
    fmt = fmt or detect(name, data)
    if fmt == "junit":
        return _junit(name, data)
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{name}: not valid JSON ({exc})") from None
    return _cucumber(name, parsed) if fmt == "cucumber" else _xray(name, parsed)


def _first_line(text: object) -> str:
    return one_line(str(text or "").strip().split("\n", 1)[0])[:300]


def _junit(name: str, data: bytes) -> list[RawResult]:
    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise ResultsError(f"{name}: not valid JUnit XML ({exc})") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise ResultsError(f"{name}: not JUnit XML (root element <{root.tag}>)")
    out: list[RawResult] = []
    for case in root.iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        status: Status = (
            "failed" if failure is not None else "not-run" if case.find("skipped") is not None else "passed"
        )
        message = ""
        if failure is not None:
            message = _first_line(failure.get("message") or failure.text)
        props = [f"{p.get('name')}={p.get('value')}" for p in case.iter("property")]
        out.append(
            RawResult(str(case.get("name") or ""), status, (str(case.get("classname") or ""), *props), message=message)
        )
    return out


def _cucumber(name: str, data: Any) -> list[RawResult]:
    if not isinstance(data, list):
        raise ResultsError(f"{name}: Cucumber JSON is a list of features")
    out: list[RawResult] = []
    for feature in data:
        if not isinstance(feature, dict):
            raise ResultsError(f"{name}: a feature is not an object")
        for element in feature.get("elements") or []:
            if not isinstance(element, dict) or element.get("type", "scenario") == "background":
                continue
            statuses = [str(((s or {}).get("result") or {}).get("status") or "") for s in element.get("steps") or []]
            status: Status = (
                "failed"
                if "failed" in statuses
                else ("passed" if statuses and all(s == "passed" for s in statuses) else "not-run")
            )
            message = next(
                (
                    _first_line(((s or {}).get("result") or {}).get("error_message"))
                    for s in element.get("steps") or []
                    if ((s or {}).get("result") or {}).get("status") == "failed"
                ),
                "",
            )
            tags = [str((t or {}).get("name") or "") for t in element.get("tags") or [] if isinstance(t, dict)]
            out.append(
                RawResult(
                    str(element.get("name") or ""), status, (str(element.get("id") or ""), *tags), message=message
                )
            )
    return out


def _xray(name: str, data: Any) -> list[RawResult]:
    """Xray's JSON execution-results format (``tests``: testKey or testInfo, status)."""
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise ResultsError(f"{name}: Xray JSON results have a 'tests' list")
    out: list[RawResult] = []
    for test in data["tests"]:
        if not isinstance(test, dict):
            raise ResultsError(f"{name}: a test result is not an object")
        raw = str(test.get("status") or "").upper()
        status = XRAY_STATUS.get(raw, "failed" if raw else "not-run")
        info: dict[str, Any] = test["testInfo"] if isinstance(test.get("testInfo"), dict) else {}
        texts = [str(info.get(k) or "") for k in ("summary", "definition", "projectKey")]
        texts += [str(label) for label in info.get("labels") or []]
        texts.append(str(test.get("comment") or ""))
        key = test.get("testKey")
        out.append(
            RawResult(
                str(info.get("summary") or key or ""),
                status,
                tuple(texts),
                key=str(key) if isinstance(key, str) and _KEY.fullmatch(key) else None,
                message=_first_line(test.get("comment")) if status == "failed" else "",
            )
        )
    return out


# -- mapping -------------------------------------------------------------------------------------------------------


def _worst(a: Status | None, b: Status) -> Status:
    if a is None:
        return b
    if "failed" in (a, b):
        return "failed"
    return "passed" if "passed" in (a, b) else "not-run"


def match(suite: Suite, results: Iterable[RawResult], keys: Mapping[str, str] | None = None) -> Results:
    """Map ``results`` to the tests of ``suite`` (see the module docs)."""
    by_id = {t.id.lower().removeprefix("tc-"): t.id for t in suite.tests}
    by_key = {key: test_id for test_id, key in (keys or {}).items()}
    by_name: dict[str, str] = {}
    for test in suite.tests:
        by_name.setdefault(one_line(test.name).lower(), test.id)
    seen: dict[str, Status] = {}
    out = Results()
    for raw in results:
        test_id = None
        for text in (raw.name, *raw.texts):
            found = next((by_id[m.group(1).lower()] for m in _ID.finditer(text) if m.group(1).lower() in by_id), None)
            if found:
                test_id = found
                break
        if test_id is None and raw.key:
            test_id = by_key.get(raw.key)
        if test_id is None:
            test_id = by_name.get(one_line(raw.name).lower())
        if test_id is None:
            out.unmatched.append(raw.key or raw.name or "(unnamed)")
            continue
        out.matched += 1
        seen[test_id] = _worst(seen.get(test_id), raw.status)
        if raw.status == "failed" and raw.message and test_id not in out.messages:
            out.messages[test_id] = raw.message
    out.tests = {t.id: seen.get(t.id, "not-run") for t in suite.tests}
    return out


def heat(model: Model, suite: Suite, results: Results) -> dict[str, Heat]:
    """Per diagram element (``wf/node`` and ``wf/node#decision``): the statuses of the tests passing it."""
    counts: dict[str, list[int]] = {}
    for test in suite.tests:
        status = results.tests.get(test.id, "not-run")
        path = path_of(model, test)
        for ref in (*path.nodes, *path.edges):
            row = counts.setdefault(ref, [0, 0, 0])
            row[STATUSES.index(status)] += 1
    return {ref: Heat(p, f, n) for ref, (p, f, n) in sorted(counts.items())}


def load(
    suite: Suite, files: Sequence[tuple[str, bytes]], keys: Mapping[str, str] | None = None, fmt: Format | None = None
) -> Results:
    """Read every file and map the results (:class:`ResultsError` names the first unreadable file)."""
    raws = [r for name, data in files for r in read(name, data, fmt)]
    return match(suite, raws, keys)


__all__ = [
    "STATUSES",
    "Heat",
    "RawResult",
    "Results",
    "ResultsError",
    "Status",
    "detect",
    "heat",
    "load",
    "match",
    "read",
]
