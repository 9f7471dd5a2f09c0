"""GraphWalker JSON: export for GraphWalker (vertices, edges, JavaScript guards and actions, shared states)
and import of our own files (lossless) and of plain GraphWalker models (with warnings where meaning is
approximated). The mapping is described in ``docs/formats.md``.

Nodes are vertices and decisions are edges. Conditions become JavaScript guards and assignments become
JavaScript actions; flowcase's own fields (and the exact expressions) travel in ``properties.flowcase``
so our round trip loses nothing. Each workflow is one GraphWalker model; a call vertex, the called
model's start vertex and its end vertices share a state named after the called workflow.

Export is :mod:`.writer`, import :mod:`.reader`; :mod:`.common` converts expressions between the two languages.
"""

from __future__ import annotations

from flowcase.model.graphwalker.common import condition_to_js, js_to_assignments, js_to_condition
from flowcase.model.graphwalker.reader import loads
from flowcase.model.graphwalker.writer import dumps

__all__ = ["condition_to_js", "dumps", "js_to_assignments", "js_to_condition", "loads"]
