"""Semantic validation: exact errors and useful warnings, each pointing at one element and field.

``validate(model)`` returns every :class:`Diagnostic` found (errors first come in document order). The checks:

errors    duplicate ids and names; not exactly one start; no end; unknown targets, workflows and ``after`` ends;
          recursive calls; nodes with no way out; expressions that do not parse, name unknown things, assign to a
          parameter, or mix types.
warnings  unreachable nodes; nodes from which no end can be reached (both also while there are errors);
          decisions that lead to such a node, or that can be taken but leave a state where no row of the next table
          applies (dead-end decisions); conditions that can never hold; inputs for which no row of a table applies;
          workflows nobody calls.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from flowcase.model import expr as ex
from flowcase.model.diagnostics import Diagnostic
from flowcase.model.expr import (
    EvalError,
    Expr,
    ExprError,
    Value,
    evaluate,
    format_value,
    names,
    parse_assignments,
    parse_condition,
)
from flowcase.model.types import Decision, Model, Node, Workflow

Path = tuple[str | int, ...]
MAX_COMBINATIONS = 4096


def did_you_mean(wrong: str, known: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the closest known name (case and small typos), or nothing."""
    names_ = list(known)
    folded = {n.casefold(): n for n in names_}
    if wrong.casefold() in folded:
        return f"; did you mean {folded[wrong.casefold()]!r}?"
    close = difflib.get_close_matches(wrong, names_, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


__all__ = ["MAX_COMBINATIONS", "validate"]


def _type_of(value: Value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "text"


@dataclass
class _Checker:
    model: Model
    found: list[Diagnostic]

    def add(
        self,
        severity: str,
        code: str,
        message: str,
        path: Path,
        workflow: Workflow | None = None,
        element: str | None = None,
        field: str | None = None,
        column: int | None = None,
    ) -> None:
        self.found.append(
            Diagnostic(
                "error" if severity == "error" else "warning",
                code,
                message,
                workflow.id if workflow else None,
                element,
                field,
                None,
                column,
                path,
            )
        )

    # -- model level -------------------------------------------------------------------------------------------

    def run(self) -> None:
        self.check_symbols()
        for wi, workflow in enumerate(self.model.workflows):
            self.check_workflow(wi, workflow)
        self.check_calls()
        for wi, workflow in enumerate(self.model.workflows):
            self.check_expressions(wi, workflow)
        has_errors = any(d.severity == "error" for d in self.found)
        for wi, workflow in enumerate(self.model.workflows):
            # the graph warnings hold even while the model has errors: a step just placed in the editor is
            # unreachable (and has no way out) before it is connected
            self.check_graph(wi, workflow)
            if not has_errors:
                self.check_conditions(wi, workflow)

    def check_symbols(self) -> None:
        seen: dict[str, str] = {}
        declared = [("parameters", i, p.name) for i, p in enumerate(self.model.parameters)]
        declared += [("variables", i, v.name) for i, v in enumerate(self.model.variables)]
        for kind, i, name in declared:
            what = kind[:-1]
            if name in seen:
                self.add(
                    "error",
                    "duplicate-name",
                    f"{name!r} is already declared as a {seen[name]}",
                    (kind, i, "name"),
                    element=f"{what} {name!r}",
                    field="name",
                )
            seen[name] = what
        for i, p in enumerate(self.model.parameters):
            types = {_type_of(v) for v in p.values}
            if len(types) > 1:
                self.add(
                    "error",
                    "mixed-types",
                    f"values mix {', '.join(sorted(types))}; use one type",
                    ("parameters", i, "values"),
                    element=f"parameter {p.name!r}",
                    field="values",
                )
            if len(set(map(repr, p.values))) != len(p.values):
                self.add(
                    "error",
                    "duplicate-value",
                    "a value is listed twice",
                    ("parameters", i, "values"),
                    element=f"parameter {p.name!r}",
                    field="values",
                )
        ids = [w.id for w in self.model.workflows]
        for wi, w in enumerate(self.model.workflows):
            if ids.index(w.id) != wi:
                self.add(
                    "error",
                    "duplicate-id",
                    f"workflow id {w.id!r} is used twice",
                    ("workflows", wi, "id"),
                    w,
                    field="id",
                )

    # -- one workflow ------------------------------------------------------------------------------------------

    def check_workflow(self, wi: int, workflow: Workflow) -> None:
        base: Path = ("workflows", wi)
        starts = [n for n in workflow.nodes if n.kind == "start"]
        if not starts:
            self.add("error", "no-start", "has no start node", (*base, "nodes"), workflow, field="nodes")
        for extra in starts[1:]:
            i = workflow.nodes.index(extra)
            self.add(
                "error",
                "several-starts",
                f"has more than one start; {starts[0].id!r} is the first",
                (*base, "nodes", i, "kind"),
                workflow,
                f"start {extra.id!r}",
                "kind",
            )
        if not workflow.ends and not (workflow.stop_anywhere and wi == 0):
            self.add("error", "no-end", "has no end node", (*base, "nodes"), workflow, field="nodes")
        if workflow.stop_anywhere and wi != 0:
            self.add(
                "warning",
                "stop-anywhere-ignored",
                "'stop_anywhere' only applies to the main workflow",
                (*base, "stop_anywhere"),
                workflow,
                field="stop_anywhere",
            )
        seen: set[str] = set()
        for ni, node in enumerate(workflow.nodes):
            path = (*base, "nodes", ni)
            element = f"{node.kind} {node.id!r}"
            if node.id in seen:
                self.add(
                    "error",
                    "duplicate-id",
                    f"node id {node.id!r} is used twice in this workflow",
                    (*path, "id"),
                    workflow,
                    element,
                    "id",
                )
            seen.add(node.id)
            self.check_node(workflow, node, path, element)

    def check_node(self, workflow: Workflow, node: Node, path: Path, element: str) -> None:
        if node.kind == "end":
            if node.decisions or node.next:
                field = "decisions" if node.decisions else "next"
                self.add(
                    "error", "end-has-exit", "an end cannot lead anywhere", (*path, field), workflow, element, field
                )
            return
        if node.decisions and node.next:
            self.add(
                "error",
                "next-and-decisions",
                "use either 'next' or 'decisions', not both",
                (*path, "next"),
                workflow,
                element,
                "next",
            )
        if not node.table:
            self.add(
                "error",
                "no-exit",
                "has no way out: give it 'next' or decisions",
                (*path, "decisions"),
                workflow,
                element,
                "decisions",
            )
        if node.kind == "call":
            if not node.workflow:
                self.add(
                    "error",
                    "call-without-workflow",
                    "a call node must name the workflow it calls",
                    (*path, "workflow"),
                    workflow,
                    element,
                    "workflow",
                )
            elif node.workflow not in self.model.workflows_by_id:
                self.add(
                    "error",
                    "unknown-workflow",
                    f"calls unknown workflow {node.workflow!r}"
                    f"{did_you_mean(node.workflow, self.model.workflows_by_id)}",
                    (*path, "workflow"),
                    workflow,
                    element,
                    "workflow",
                )
        elif node.workflow:
            self.add(
                "error",
                "not-a-call",
                "only call nodes name a workflow",
                (*path, "workflow"),
                workflow,
                element,
                "workflow",
            )
        row_ids: set[str] = set()
        for di, decision in enumerate(node.table):
            dpath, delement = self.decision_place(node, path, di, element)
            if decision.id in row_ids:
                self.add(
                    "error",
                    "duplicate-id",
                    f"decision id {decision.id!r} is used twice in this table",
                    (*dpath, "id"),
                    workflow,
                    delement,
                    "id",
                )
            row_ids.add(decision.id or "")
            if decision.next not in workflow.by_id:
                self.add(
                    "error",
                    "unknown-target",
                    f"leads to unknown node {decision.next!r}{did_you_mean(decision.next, workflow.by_id)}",
                    (*dpath, "next") if node.decisions else (*path, "next"),
                    workflow,
                    delement,
                    "next",
                )
            elif workflow.by_id[decision.next].kind == "start":
                self.add(
                    "error",
                    "target-is-start",
                    "cannot lead back to the start node",
                    (*dpath, "next") if node.decisions else (*path, "next"),
                    workflow,
                    delement,
                    "next",
                )
            if decision.after is not None:
                if node.kind != "call":
                    self.add(
                        "error",
                        "after-not-on-call",
                        "'after' is only for rows of a call node",
                        (*dpath, "after"),
                        workflow,
                        delement,
                        "after",
                    )
                elif node.workflow in self.model.workflows_by_id:
                    callee = self.model.workflow(node.workflow)
                    end_names = {e.name or e.id for e in callee.ends} | {e.id for e in callee.ends}
                    if decision.after not in end_names:
                        self.add(
                            "error",
                            "unknown-end",
                            f"workflow {callee.id!r} has no end named {decision.after!r}"
                            f" (its ends: {', '.join(sorted(e.name or e.id for e in callee.ends))})",
                            (*dpath, "after"),
                            workflow,
                            delement,
                            "after",
                        )

    @staticmethod
    def decision_place(node: Node, path: Path, di: int, element: str) -> tuple[Path, str]:
        if node.decisions:
            return (*path, "decisions", di), f"{element}, decision {node.table[di].id!r}"
        return path, element

    def check_calls(self) -> None:
        calls: dict[str, set[str]] = {
            w.id: {n.workflow for n in w.nodes if n.kind == "call" and n.workflow in self.model.workflows_by_id}
            for w in self.model.workflows
        }

        def cycle_from(start: str) -> list[str] | None:
            stack: list[tuple[str, list[str]]] = [(start, [start])]
            while stack:
                current, trail = stack.pop()
                for callee in sorted(calls.get(current, ())):
                    if callee == start:
                        return [*trail, callee]
                    if callee not in trail:
                        stack.append((callee, [*trail, callee]))
            return None

        reported: set[frozenset[str]] = set()
        for wi, w in enumerate(self.model.workflows):
            cycle = cycle_from(w.id)
            if cycle and frozenset(cycle) not in reported:
                reported.add(frozenset(cycle))
                self.add("error", "recursive-call", "calls itself: " + " -> ".join(cycle), ("workflows", wi), w)
        called = set().union(*calls.values()) if calls else set()
        for wi, w in enumerate(self.model.workflows[1:], start=1):
            if w.id not in called:
                self.add("warning", "never-called", "is not called by any call node", ("workflows", wi), w)

    # -- expressions -------------------------------------------------------------------------------------------

    def symbol_types(self) -> dict[str, str]:
        types = {p.name: _type_of(p.values[0]) for p in self.model.parameters}
        types.update({v.name: _type_of(v.initial) for v in self.model.variables})
        return types

    def check_expressions(self, wi: int, workflow: Workflow) -> None:
        types = self.symbol_types()
        variables = {v.name for v in self.model.variables}
        for ni, node in enumerate(workflow.nodes):
            path = ("workflows", wi, "nodes", ni)
            for di, decision in enumerate(node.table):
                if not node.decisions:
                    continue
                dpath, element = self.decision_place(node, path, di, f"{node.kind} {node.id!r}")
                self.check_condition(workflow, decision, dpath, element, types)
                self.check_assignments(workflow, decision, dpath, element, types, variables)

    def check_condition(
        self, workflow: Workflow, decision: Decision, path: Path, element: str, types: Mapping[str, str]
    ) -> None:
        try:
            expr = parse_condition(decision.when)
        except ExprError as exc:
            self.add("error", "bad-expression", exc.message, (*path, "when"), workflow, element, "when", exc.column)
            return
        try:
            kind = _infer(expr, types)
        except _TypeProblem as exc:
            self.add("error", exc.code, exc.message, (*path, "when"), workflow, element, "when", exc.column)
            return
        if expr is not None and kind != "bool":
            self.add(
                "error",
                "not-a-condition",
                f"must be true or false, but this is {kind}",
                (*path, "when"),
                workflow,
                element,
                "when",
                1,
            )

    def check_assignments(
        self,
        workflow: Workflow,
        decision: Decision,
        path: Path,
        element: str,
        types: Mapping[str, str],
        variables: set[str],
    ) -> None:
        try:
            assignments = parse_assignments(decision.set)
        except ExprError as exc:
            self.add("error", "bad-expression", exc.message, (*path, "set"), workflow, element, "set", exc.column)
            return
        for a in assignments:
            if a.target not in variables:
                what = "a parameter (parameters are inputs)" if a.target in types else "not a declared variable"
                self.add(
                    "error",
                    "bad-assignment",
                    f"{a.target!r} is {what}",
                    (*path, "set"),
                    workflow,
                    element,
                    "set",
                    a.column,
                )
                continue
            try:
                kind = _infer(a.expr, types)
            except _TypeProblem as exc:
                self.add("error", exc.code, exc.message, (*path, "set"), workflow, element, "set", exc.column)
                continue
            if kind != types[a.target]:
                self.add(
                    "error",
                    "type-mismatch",
                    f"{a.target!r} holds {types[a.target]} but is given {kind}",
                    (*path, "set"),
                    workflow,
                    element,
                    "set",
                    a.column,
                )

    # -- graph and satisfiability warnings ---------------------------------------------------------------------

    def check_graph(self, wi: int, workflow: Workflow) -> None:
        start = workflow.start
        if start is None:
            return
        forward: dict[str, set[str]] = {
            n.id: {d.next for d in n.table if d.next in workflow.by_id} for n in workflow.nodes
        }
        reached = _closure([start.id], forward)
        backward: dict[str, set[str]] = {n.id: set() for n in workflow.nodes}
        for source, targets in forward.items():
            for target in targets:
                backward[target].add(source)
        stops = workflow.nodes if workflow.stop_anywhere and wi == 0 else workflow.ends
        finishing = _closure([e.id for e in stops if e.kind != "start"], backward)
        for ni, node in enumerate(workflow.nodes):
            element = f"{node.kind} {node.id!r}"
            if node.id not in reached:
                self.add(
                    "warning",
                    "unreachable",
                    "cannot be reached from the start",
                    ("workflows", wi, "nodes", ni),
                    workflow,
                    element,
                )
            elif node.id not in finishing:
                self.add(
                    "warning",
                    "dead-end",
                    "no end can be reached from here",
                    ("workflows", wi, "nodes", ni),
                    workflow,
                    element,
                )
                continue
            for di, decision in enumerate(node.table):
                if decision.next in workflow.by_id and decision.next not in finishing:
                    dpath, delement = self.decision_place(node, ("workflows", wi, "nodes", ni), di, element)
                    self.add(
                        "warning",
                        "dead-end-decision",
                        f"leads to {decision.next!r}, from which no end can be reached",
                        (*dpath, "next"),
                        workflow,
                        delement,
                        "next",
                    )

    def check_dead_end_decisions(self, wi: int, workflow: Workflow) -> None:
        """A decision that can be taken, after which no row of the next table can be (every state it leaves)."""
        domains = self.finite_domains()
        for ni, node in enumerate(workflow.nodes):
            if node.kind in ("end", "call"):
                continue
            for di, decision in enumerate(node.table):
                target = workflow.by_id.get(decision.next)
                if target is None or target.kind in ("end", "call") or not target.table:
                    continue
                conditions = [parse_condition(d.when) for d in target.table]
                if any(c is None for c in conditions):
                    continue
                try:
                    when, sets = parse_condition(decision.when), parse_assignments(decision.set)
                except ExprError:
                    continue
                used = sorted(
                    {n.name for n in names(when)}
                    | {n.name for a in sets for n in names(a.expr)}
                    | {n.name for c in conditions for n in names(c)} - {a.target for a in sets}
                )
                envs = _environments(used, domains)
                if not envs:
                    continue
                taken = [env for env in envs if _holds(when, env)]
                stuck = []
                for env in taken:
                    after = dict(env)
                    try:
                        for a in sets:
                            value = evaluate(a.expr, env)
                            if isinstance(value, tuple):
                                raise EvalError("a list is no value")
                            after[a.target] = value
                    except EvalError:
                        continue
                    if any(_holds(c, after) for c in conditions):
                        break
                    stuck.append(after)
                else:
                    if stuck:
                        shown = ", ".join(
                            f"{k} = {format_value(v)}"
                            for k, v in stuck[0].items()
                            if k in {n.name for c in conditions for n in names(c)}
                        )
                        dpath, delement = self.decision_place(
                            node, ("workflows", wi, "nodes", ni), di, f"{node.kind} {node.id!r}"
                        )
                        self.add(
                            "warning",
                            "dead-end-decision",
                            f"can be taken, but then no row of {target.id!r} applies"
                            f"{f' ({shown})' if shown else ''}: a dead end",
                            (*dpath, "when"),
                            workflow,
                            delement,
                            "when",
                        )

    def check_conditions(self, wi: int, workflow: Workflow) -> None:
        self.check_dead_end_decisions(wi, workflow)
        domains = self.finite_domains()
        for ni, node in enumerate(workflow.nodes):
            if not node.decisions:
                continue
            path = ("workflows", wi, "nodes", ni)
            element = f"{node.kind} {node.id!r}"
            conditions = [parse_condition(d.when) for d in node.table]
            for di, expr in enumerate(conditions):
                used = sorted({n.name for n in names(expr)})
                envs = _environments(used, domains)
                if envs is not None and not any(_holds(expr, env) for env in envs):
                    dpath, delement = self.decision_place(node, path, di, element)
                    self.add(
                        "warning",
                        "never-holds",
                        "this condition can never hold",
                        (*dpath, "when"),
                        workflow,
                        delement,
                        "when",
                    )
            if node.kind == "call":
                continue
            used = sorted({n.name for e in conditions for n in names(e)})
            envs = _environments(used, domains)
            if envs is None:
                continue
            for env in envs:
                if not any(_holds(e, env) for e in conditions):
                    shown = ", ".join(f"{k} = {format_value(v)}" for k, v in env.items())
                    self.add(
                        "warning",
                        "incomplete-table",
                        f"no row applies when {shown}",
                        (*path, "decisions"),
                        workflow,
                        element,
                        "decisions",
                    )
                    break

    def finite_domains(self) -> dict[str, tuple[Value, ...]]:
        """Every value a name can take: parameter domains, and variables only ever set to constants."""
        domains: dict[str, tuple[Value, ...]] = dict(self.model.parameter_domains)
        values: dict[str, list[Value]] = {v.name: [v.initial] for v in self.model.variables}
        open_ended: set[str] = set()
        for workflow in self.model.workflows:
            for _, decision in workflow.edges():
                for a in parse_assignments(decision.set):
                    if isinstance(a.expr, ex.Const):
                        if a.expr.value not in values.get(a.target, []):
                            values.setdefault(a.target, []).append(a.expr.value)
                    else:
                        open_ended.add(a.target)
        domains.update({k: tuple(v) for k, v in values.items() if k not in open_ended})
        return domains


def _closure(seeds: Iterable[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen = set(seeds)
    todo = list(seen)
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target in edges and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _environments(used: list[str], domains: Mapping[str, tuple[Value, ...]]) -> list[dict[str, Value]] | None:
    if any(name not in domains for name in used):
        return None
    size = 1
    for name in used:
        size *= len(domains[name])
        if size > MAX_COMBINATIONS:
            return None
    return [dict(zip(used, combo, strict=True)) for combo in itertools.product(*(domains[n] for n in used))]


def _holds(expr: Expr | None, env: Mapping[str, Value]) -> bool:
    try:
        return evaluate(expr, env) is True
    except EvalError:
        return False


class _TypeProblem(Exception):
    def __init__(self, code: str, message: str, column: int) -> None:
        super().__init__(message)
        self.code, self.message, self.column = code, message, column


def _infer(expr: Expr | None, types: Mapping[str, str]) -> str:
    """The type of ``expr``: bool, number, text or list; raises _TypeProblem on misuse."""
    if expr is None:
        return "bool"
    if isinstance(expr, ex.Const):
        return _type_of(expr.value)
    if isinstance(expr, ex.Name):
        if expr.name not in types:
            known = ", ".join(sorted(types)) or "none declared"
            hint = did_you_mean(expr.name, types)
            raise _TypeProblem("unknown-name", f"unknown name {expr.name!r}{hint or f' (known: {known})'}", expr.column)
        return types[expr.name]
    if isinstance(expr, ex.ListExpr):
        kinds = {_infer(item, types) for item in expr.items}
        if len(kinds) > 1:
            raise _TypeProblem("type-mismatch", "a list must hold values of one type", expr.column)
        return "list:" + (kinds.pop() if kinds else "any")
    if isinstance(expr, ex.Not):
        _expect(expr.operand, "bool", types, "'not'")
        return "bool"
    if isinstance(expr, ex.Neg):
        _expect(expr.operand, "number", types, "'-'")
        return "number"
    return _infer_binop(expr, types)


def _infer_binop(expr: ex.BinOp, types: Mapping[str, str]) -> str:
    op = expr.op
    if op in ("and", "or"):
        _expect(expr.left, "bool", types, f"'{op}'")
        _expect(expr.right, "bool", types, f"'{op}'")
        return "bool"
    left, right = _infer(expr.left, types), _infer(expr.right, types)
    if op in ("in", "not in"):
        if not right.startswith("list:"):
            raise _TypeProblem("type-mismatch", f'\'{op}\' needs a list like ["a", "b"] on its right', expr.column)
        if right != "list:any" and right[5:] != left:
            raise _TypeProblem("type-mismatch", f"compares {left} with a list of {right[5:]}", expr.column)
        return "bool"
    if left.startswith("list:") or right.startswith("list:"):
        raise _TypeProblem("type-mismatch", f"'{op}' cannot use a list; did you mean 'in'?", expr.column)
    if op in ("==", "!="):
        if left != right:
            raise _TypeProblem("type-mismatch", f"compares {left} with {right}; this is never equal", expr.column)
        return "bool"
    if op in ("<", "<=", ">", ">="):
        if left != right or left == "bool":
            raise _TypeProblem("type-mismatch", f"cannot order {left} against {right}", expr.column)
        return "bool"
    if op == "+" and left == right == "text":
        return "text"
    if left != "number" or right != "number":
        raise _TypeProblem("type-mismatch", f"'{op}' needs numbers, not {left} and {right}", expr.column)
    return "number"


def _expect(expr: Expr, kind: str, types: Mapping[str, str], what: str) -> None:
    found = _infer(expr, types)
    if found != kind:
        column = getattr(expr, "column", 0) or 1
        raise _TypeProblem("type-mismatch", f"{what} needs {kind}, got {found}", column)


def validate(model: Model) -> list[Diagnostic]:
    """Every error and warning about ``model``; errors first, each group in document order."""
    checker = _Checker(model, [])
    checker.run()
    return sorted(checker.found, key=lambda d: d.severity != "error")


def errors(diagnostics: Iterable[Diagnostic]) -> Iterator[Diagnostic]:
    return (d for d in diagnostics if d.severity == "error")
