"""Where a published test issue comes from, and whether it is still what its story's workflow generates.

A test issue carries the ``flowcase-test`` property (:mod:`flowcase.jira.publish`): its test id, model, story, the
hash of what was written, the story's workflow revision it was written from and its path (ids only). The lineage
reads that, the story's current workflow and how its suite was generated (the story's ``flowcase-summary``), then
regenerates and plans exactly as publishing would:

- **current**: the workflow still generates this test and publishing would write the same issue;
- **outdated**: the workflow still generates this test (same path), but its steps, data or names changed: the
  next publish updates the issue;
- **obsolete**: labelled obsolete or duplicate, or the workflow no longer generates this test (the next publish
  labels it obsolete), or the story has no workflow (or another model) any more.

:func:`read` does the Jira calls (GETs only); :func:`assess` is pure and CPU-bound (the web app runs it in its
compute pool).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowcase.export.common import workflow_id
from flowcase.export.diagram import MARKERS, svg
from flowcase.generate.suite import Criterion
from flowcase.jira.client import JiraClient
from flowcase.jira.publish import DUPLICATE_LABEL, OBSOLETE_LABEL, TEST_PROPERTY, plan
from flowcase.jira.settings_store import PublishSettings
from flowcase.model.types import Model, Scalar

CRITERIA = ("all-steps", "all-decisions", "all-pairs", "all-paths", "purposes")


@dataclass(frozen=True, slots=True)
class Facts:
    """What Jira says about a test issue and its story (read by :func:`read`)."""

    issue_key: str
    identity: dict[str, Any]
    labels: tuple[str, ...]
    story_summary: str
    model: Model | None  # the story's current workflow
    revision: int | None  # its current revision
    criterion: Criterion
    options: dict[str, Scalar]
    settings: PublishSettings

    @property
    def story(self) -> str:
        return str(self.identity.get("story") or "")


async def read(client: JiraClient, issue_key: str, settings_of: Any, load_model: Any) -> Facts | None:
    """The facts for ``issue_key``; None when it is not a flowcase test issue.

    ``settings_of(project)`` and ``load_model(story)`` are the caller's (the web app turns their failures into
    clear errors); both are awaited."""
    from flowcase.jira.storage import read_summary

    issue = await client.get_issue(issue_key, fields=("labels",), properties=(TEST_PROPERTY,))
    identity = ((issue or {}).get("properties") or {}).get(TEST_PROPERTY)
    if not isinstance(identity, dict) or not identity.get("id") or not identity.get("story"):
        return None
    story = str(identity["story"])
    labels = tuple(str(label) for label in ((issue or {}).get("fields") or {}).get("labels") or ())
    story_issue = await client.get_issue(story, fields=("summary",))
    stored = await load_model(story) if story_issue is not None else None
    summary = await read_summary(client, story) if stored is not None else None
    criterion = (summary or {}).get("criterion")
    options = (summary or {}).get("options")
    project = story.rsplit("-", 1)[0]
    return Facts(
        issue_key=issue_key,
        identity=identity,
        labels=labels,
        story_summary=str(((story_issue or {}).get("fields") or {}).get("summary") or ""),
        model=stored[0] if stored else None,
        revision=stored[1] if stored else None,
        criterion=criterion if criterion in CRITERIA else "all-decisions",
        options={k: v for k, v in options.items() if isinstance(v, str | int | float | bool)}
        if isinstance(options, dict)
        else {},
        settings=await settings_of(project),
    )


def _path_refs(facts: Facts, test_steps: list[str], end: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The diagram's ``data-tests`` maps for one test (key ``t``): its nodes and arrows in their workflows."""
    assert facts.model is not None
    nodes: dict[str, set[str]] = {}
    edges: dict[str, set[str]] = {}
    model = facts.model
    for ref in test_steps:
        where, _, decision = ref.partition("#")
        instance, _, node_id = where.rpartition("/")
        wf = workflow_id(instance)
        nodes[f"{wf}/{node_id}"] = {"t"}
        edges[f"{wf}/{node_id}#{decision}"] = {"t"}
        workflow = model.workflows_by_id.get(wf)
        node = workflow.by_id.get(node_id) if workflow else None
        row = next((d for d in node.table if d.id == decision), None) if node else None
        if row is not None:
            nodes[f"{wf}/{row.next}"] = {"t"}
    if end:
        nodes[f"{model.main.id}/{end}"] = {"t"}
    return nodes, edges


def assess(facts: Facts, generate: Any) -> dict[str, Any]:
    """The lineage as the issue panel shows it. ``generate(model, criterion, options)`` makes the suite."""
    ident = facts.identity
    test_id = str(ident["id"])
    out: dict[str, Any] = {
        "isTest": True,
        "issueKey": facts.issue_key,
        "testId": test_id,
        "story": facts.story,
        "storySummary": facts.story_summary,
        "publishedRevision": ident.get("revision"),
        "currentRevision": facts.revision,
        "criterion": facts.criterion,
        "diagram": None,
        "name": None,
    }
    model = facts.model
    if model is None:
        return {**out, "status": "obsolete", "reason": f"{facts.story} has no workflow any more"}
    if ident.get("model") != model.id:
        return {
            **out,
            "status": "obsolete",
            "reason": f"the workflow on {facts.story} is another model now ({model.label})",
        }
    suite = generate(model, facts.criterion, facts.options)
    planned = {p.test_id: p for p in plan(model, suite, facts.story.rsplit("-", 1)[0], facts.settings)}
    test = next((t for t in suite.tests if t.id == test_id), None)
    mine = planned.get(test_id)
    if DUPLICATE_LABEL in facts.labels:
        status, reason = "obsolete", "a duplicate of an older issue of the same test"
    elif OBSOLETE_LABEL in facts.labels and mine is None:
        status, reason = "obsolete", "the workflow no longer generates this test; it was labelled obsolete"
    elif mine is None:
        status, reason = "obsolete", "the workflow no longer generates this test: the next publish labels it obsolete"
    elif OBSOLETE_LABEL in facts.labels or mine.hash != ident.get("hash"):
        status, reason = "outdated", "the workflow changed this test: the next publish updates this issue"
    else:
        status, reason = "current", "this issue is what the workflow generates now"
    stored_path = [str(r) for r in ident.get("path") or () if isinstance(r, str)]
    steps = stored_path or ([f"{s.workflow}/{s.node}#{s.decision}" for s in test.steps] if test else [])
    end = str(ident.get("end") or (test.end if test else ""))
    node_tests, edge_tests = _path_refs(facts, steps, end)
    main = model.main
    out.update(
        status=status,
        reason=reason,
        name=test.name if test else None,
        workflow=main.label,
        diagram=MARKERS + svg(main, node_tests, edge_tests),
    )
    return out


__all__ = ["Facts", "assess", "read"]
