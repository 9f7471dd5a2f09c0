"""BPMN 2.0 XML: export that bpmn.io and Camunda Modeler open, import of our own files and of theirs.

Export (:mod:`.writer`): one ``process`` per workflow with full DI; start/end events, tasks (steps), exclusive
gateways (choice points) and call activities; each decision is one ``sequenceFlow`` carrying its fields in a
``flowcase:decision`` extension element, so our own round trip loses nothing. Import (:mod:`.reader`) reads
our files back exactly and gives any valid BPMN 2.0 process from a modelling tool a test semantics, with a
warning for everything it approximates. It also keeps how the file drew the model (``Node.bpmn``,
``Decision.bpmn``, ``Model.bpmn``: element types, boundary events, sub-processes, pools, lanes, message flows,
artifacts and their DI), which export writes back, so a model imported from a modelling tool goes back to it as
it was drawn. The mapping is described in ``docs/formats.md``.
"""

from __future__ import annotations

from flowcase.model.bpmn.common import BPMN, FLOWCASE
from flowcase.model.bpmn.reader import loads, sanitise_id
from flowcase.model.bpmn.writer import dumps

__all__ = ["BPMN", "FLOWCASE", "dumps", "loads", "sanitise_id"]
