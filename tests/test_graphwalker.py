"""GraphWalker JSON export/import, the JavaScript translation of guards and actions, the meaning checker,
and a property test: generated models keep their meaning through BPMN and through GraphWalker."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowcase.model import bpmn, graphwalker, io
from flowcase.model.diagnostics import ModelError
from flowcase.model.expr import evaluate, parse_assignments, parse_condition
from flowcase.model.graphwalker import condition_to_js, dumps, js_to_assignments, js_to_condition, loads
from flowcase.model.io import load_path
from flowcase.model.semantics import canonical, normal_condition, same_meaning
from flowcase.model.types import Decision, Layout, Model, Node, Parameter, Variable, Workflow
from flowcase.model.validate import validate

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent
SAMPLES = sorted((DATA / "bpmn" / "models").glob("*.yaml"))
EXAMPLES = sorted([*ROOT.glob("examples/*.json"), *ROOT.glob("examples/*.yaml"), *ROOT.glob("examples/*.yml")])
MODELS = [(p.name, load_path(p).model) for p in [*SAMPLES, *EXAMPLES]]


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[n for n, _ in MODELS])
def test_round_trip_keeps_meaning_and_descriptions(name: str, model: Model) -> None:
    text = dumps(model)
    back = loads(text, "x.json")
    assert back.warnings == ()
    assert same_meaning(model, back.model, descriptions=True) == []
    assert dumps(back.model) == text


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[n for n, _ in MODELS])
def test_export_is_a_well_formed_graphwalker_document(name: str, model: Model) -> None:
    data = json.loads(dumps(model))
    assert [m["id"] for m in data["models"]] == [w.id for w in model.workflows]
    for gw, workflow in zip(data["models"], model.workflows, strict=True):
        vertex_ids = [v["id"] for v in gw["vertices"]]
        edge_ids = [e["id"] for e in gw["edges"]]
        assert len(set(vertex_ids + edge_ids)) == len(vertex_ids) + len(edge_ids)
        assert gw["startElementId"] in vertex_ids
        assert gw["generator"]
        for vertex in gw["vertices"]:
            assert vertex["name"].startswith("v_") and vertex["name"].isidentifier()
            assert isinstance(vertex["properties"]["x"], float | int)
        for edge in gw["edges"]:
            assert edge["sourceVertexId"] in vertex_ids and edge["targetVertexId"] in vertex_ids
            assert edge["name"].startswith("e_") and edge["name"].isidentifier()
            assert all(a.endswith(";") for a in edge["actions"])
        assert len(gw["edges"]) == sum(1 for _ in workflow.edges())


def test_guards_actions_and_shared_states_of_a_sub_workflow() -> None:
    model = load_path(DATA / "bpmn" / "models" / "claim-with-subworkflow.yaml").model
    data = json.loads(dumps(model))
    main, sub = data["models"]
    edges = {e["id"]: e for e in main["edges"]}
    assert edges["register.web"]["guard"] == 'channel == "web"'
    assert edges["register.web"]["actions"] == ['status = "registered";', "reminders = 0;"]
    assert edges["register.web"]["requirements"] == ["CLM-1", "CLM-2"]
    assert edges["cover.2"]["guard"] == "!covered"
    assert main["actions"][:2] == ["reminders = 0;", "rate = 1.5;"]
    shared = {v["id"]: v.get("sharedState") for v in main["vertices"]}
    assert shared["assess"] == "assessment"
    sub_shared = {v["id"]: v.get("sharedState") for v in sub["vertices"]}
    assert sub_shared == {"start": "assessment", "visit": None, "approved": "assessment", "rejected": "assessment"}


# -- JavaScript ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flowcase", "js"),
    [
        ("a and (b or not c)", "a && (b || !c)"),
        ("not (x == 1 and y != 2)", "!((x == 1) && (y != 2))"),
        ('name == "O\'Neil \\"Q\\""', 'name == "O\'Neil \\"Q\\""'),
        ("x in [1, 2]", "([1, 2].indexOf(x) >= 0)"),
        ("x not in [1]", "([1].indexOf(x) < 0)"),
        ("-x + 3 * (y - 1) >= 2.5", "(-(x) + (3 * (y - 1))) >= 2.5"),
        ("", ""),
    ],
)
def test_conditions_become_javascript_guards(flowcase: str, js: str) -> None:
    assert condition_to_js(flowcase) == js


@pytest.mark.parametrize(
    ("js", "flowcase"),
    [
        ("!rememberMe||!validLogin", "not rememberMe or not validLogin"),
        ("rememberMe&&validLogin", "rememberMe and validLogin"),
        ("num_of_books<=MAX_BOOKS", "num_of_books <= MAX_BOOKS"),
        ("!a == b", "(not a) == b"),  # JavaScript's ! binds tighter than ==
        ("!(a && b)", "not (a and b)"),
        ("x === 'y' && z !== 2", 'x == "y" and z != 2'),
        ("s != '!x'", 's != "!x"'),
        ("books.size() > 0", None),
        ("a ? b : c", None),
    ],
)
def test_javascript_guards_are_read_back(js: str, flowcase: str | None) -> None:
    assert js_to_condition(js) == flowcase


def test_javascript_actions_are_read_back() -> None:
    assert js_to_assignments(["validLogin=false;rememberMe=false;"]) == ("validLogin = false; rememberMe = false", [])
    assert js_to_assignments([" num_of_books++;", "total += 2 * n;"]) == (
        "num_of_books = num_of_books + 1; total = total + 2 * n",
        [],
    )
    assert js_to_assignments(["rememberMe=!rememberMe;"]) == ("rememberMe = not rememberMe", [])
    assert js_to_assignments(["var x = 1; y = 'a;b';"]) == ('y = "a;b"', ["var x = 1"])
    assert js_to_assignments(["x = f(1);"]) == ("", ["x = f(1)"])


_names = st.sampled_from(["a", "b", "n"])
_bools = st.sampled_from(["a", "b", "true", "false"])
_nums = st.one_of(st.sampled_from(["n", "0", "2", "7"]), st.integers(-5, 5).map(str))


def _numeric(depth: int) -> st.SearchStrategy[str]:
    if depth == 0:
        return _nums
    sub = _numeric(depth - 1)
    binary = st.tuples(sub, st.sampled_from(["+", "-", "*"]), sub).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
    return st.one_of(_nums, binary, sub.map(lambda s: f"-{s}"))


def _boolean(depth: int) -> st.SearchStrategy[str]:
    compare = st.tuples(_numeric(1), st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), _numeric(1)).map(
        lambda t: f"{t[0]} {t[1]} {t[2]}"
    )
    if depth == 0:
        return st.one_of(_bools, compare)
    sub = _boolean(depth - 1)
    return st.one_of(
        _bools,
        compare,
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
        sub.map(lambda s: f"not ({s})"),
        st.tuples(sub, st.sampled_from(["==", "!="]), sub).map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
    )


@settings(max_examples=150, deadline=None)
@given(_boolean(2), st.booleans(), st.booleans(), st.integers(-3, 3))
def test_guards_survive_javascript_and_back(condition: str, a: bool, b: bool, n: int) -> None:
    back = js_to_condition(condition_to_js(condition))
    assert back is not None
    env = {"a": a, "b": b, "n": n}
    assert evaluate(parse_condition(back), env) == evaluate(parse_condition(condition), env)


# -- plain GraphWalker ---------------------------------------------------------------------------------


def test_import_the_login_model() -> None:
    loaded = load_path(DATA / "graphwalker" / "login.json", "graphwalker")
    model = loaded.model
    wf = model.main
    assert [(n.id, n.kind) for n in wf.nodes] == [
        ("v_ClientNotRunning", "step"),
        ("v_LoginPrompted", "step"),
        ("v_Browse", "step"),
        ("Start", "start"),
    ]
    assert wf.stop_anywhere  # a GraphWalker walk may stop at any vertex: no end node, no "stop" rows
    assert [(v.name, v.initial) for v in model.variables] == [("validLogin", False), ("rememberMe", False)]
    start = wf.node("Start").table[0]
    assert start.set == "validLogin = false; rememberMe = false" and start.next == "v_ClientNotRunning"
    guards = {d.id: d.when for d in wf.node("v_ClientNotRunning").table}
    assert guards == {"e1": "not rememberMe or not validLogin", "e7": "rememberMe and validLogin"}
    toggle = next(d for d in wf.node("v_LoginPrompted").table if d.id == "e5")
    assert toggle.set == "rememberMe = not rememberMe" and toggle.requirements == ("LOGIN-1",)
    assert wf.node("v_LoginPrompted").description == "The user is asked for credentials"
    assert wf.node("v_LoginPrompted").layout == Layout(x=-64.5, y=311)
    assert loaded.warnings == ()
    assert [d for d in validate(model) if d.severity == "error"] == []


def test_import_two_models_linked_by_a_shared_state() -> None:
    """GraphWalker's semantics: vertices sharing a state are one state of one machine (not a call)."""
    loaded = load_path(DATA / "graphwalker" / "bookshop.json", "graphwalker")
    model = loaded.model
    assert [w.id for w in model.workflows] == ["Bookshop"] and model.main.stop_anywhere
    cart = model.main.node("v_ShoppingCart")
    assert cart.kind == "step" and [d.next for d in cart.table] == ["v_SearchResult", "v_Paid"]
    assert model.main.node("v_Paid").kind == "end"
    assert [d.next for d in model.main.start.table] == ["v_BrowserStopped"]  # type: ignore[union-attr]
    add = model.main.node("v_BookInformation").table[0]
    assert (add.when, add.set) == ("num_of_books <= MAX_BOOKS", "num_of_books = num_of_books + 1")
    assert model.main.node("v_BrowserStopped").table[0].custom == {"weight": 0.3}
    assert dict((v.name, v.initial) for v in model.variables) == {"num_of_books": 0, "MAX_BOOKS": 5}
    search = cart.table[0]
    assert search.when == "" and search.objective == "when books.size() > 0"
    messages = "\n".join(w.message for w in loaded.warnings)
    for expected in (
        "guard 'books.size() > 0' cannot be read",
        "edge without a source",
        "'var receipt = 1' cannot be read",
    ):
        assert expected in messages


def test_a_single_model_object_and_a_start_vertex_are_accepted() -> None:
    text = json.dumps(
        {
            "name": "Small model",
            "startElementId": "n0",
            "vertices": [{"id": "n0", "name": "v_A"}, {"id": "n1", "name": "v_B"}],
            "edges": [
                {"id": "e0", "name": "e_Go", "sourceVertexId": "n0", "targetVertexId": "n1"},
                {"id": "e1", "name": "e_Back", "sourceVertexId": "n1", "targetVertexId": "n0"},
            ],
        }
    )
    model = loads(text).model
    # v_A is entered again later, so it stays a step and a start node leads to it
    assert [(n.id, n.kind) for n in model.main.nodes] == [("start", "start"), ("v_A", "step"), ("v_B", "step")]
    assert [d.next for d in model.main.nodes[0].table] == ["v_A"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"models": [', "invalid JSON"),
        ("[1, 2]", "not a GraphWalker document"),
        ('{"models": [{"vertices": {}}]}', "'vertices' of model #1 must be a list"),
        (
            '{"models": [{"vertices": [{"id": "a"}], "edges": [], "startElementId": "zz"}]}',
            "startElementId 'zz' of model 'model' is neither a vertex nor an edge of this file",
        ),
        (
            '{"models": [{"properties": {"flowcase": {"workflow": {"id": "w"}}}, '
            '"vertices": [{"id": "a", "properties": {"flowcase": {"kind": "blob"}}}]}]}',
            "invalid at Node.kind",
        ),
    ],
)
def test_bad_input_is_a_one_line_error(text: str, expected: str) -> None:
    with pytest.raises(ModelError) as info:
        loads(text, "bad.json")
    assert expected in str(info.value) and "\n" not in str(info.value)


# -- meaning -------------------------------------------------------------------------------------------


def _tiny(**changes: Any) -> Model:
    decision = Decision(id="go", when=changes.get("when", "x==1"), next="e", custom=changes.get("custom", {}))
    return Model(
        id="m",
        parameters=(Parameter(name="x", values=changes.get("values", (1, 2))),),
        workflows=(
            Workflow(
                id="w",
                nodes=(
                    Node(id="s", kind="start", decisions=(decision,), layout=changes.get("layout")),
                    Node(id="e", kind="end", name=changes.get("end", "done")),
                ),
            ),
        ),
    )


def test_same_meaning_ignores_layout_spacing_and_the_next_shorthand() -> None:
    assert same_meaning(_tiny(), _tiny(when="x == 1", layout=Layout(x=1, y=2))) == []
    short = Model(
        id="m", workflows=(Workflow(id="w", nodes=(Node(id="s", kind="start", next="e"), Node(id="e", kind="end"))),)
    )
    explicit = Model(
        id="m",
        workflows=(
            Workflow(
                id="w",
                nodes=(Node(id="s", kind="start", decisions=(Decision(id="1", next="e"),)), Node(id="e", kind="end")),
            ),
        ),
    )
    assert same_meaning(short, explicit) == []


def test_same_meaning_reports_each_difference_in_words() -> None:
    assert same_meaning(_tiny(), _tiny(when="x == 2")) == [
        "workflow 'w', node 's', decision 'go', field 'when': 'x == 1' != 'x == 2'"
    ]
    assert same_meaning(_tiny(), _tiny(values=(1, "2"))) == [
        "parameter 'x': ['int:1', 'int:2'] != ['int:1', \"str:'2'\"]"
    ]
    assert same_meaning(_tiny(custom={"k": True}), _tiny(custom={"k": 1})) == [
        "workflow 'w', node 's', decision 'go', custom attribute 'k': 'bool:True' != 'int:1'"
    ]
    assert same_meaning(_tiny(end="a"), _tiny(end="b")) == ["workflow 'w', node 'e', field 'name': 'a' != 'b'"]
    other = _tiny().model_copy(update={"variables": (Variable(name="v", initial=0),)})
    assert same_meaning(_tiny(), other) == ["variable 'v' only in the second model"]


def test_canonical_drops_descriptions_unless_asked() -> None:
    model = _tiny().model_copy(update={"description": "words"})
    assert "description" not in canonical(model) and canonical(model, descriptions=True)["description"] == "words"
    assert normal_condition("a==1 and(b or c)") == "a == 1 and (b or c)"


# -- property: generated models keep their meaning through both formats --------------------------------

_ident = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True)
_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\n\t<&\"'"), max_size=12)
_scalar = st.one_of(st.booleans(), st.integers(-1000, 1000), st.floats(-1e6, 1e6, allow_nan=False), _text)
_level = st.sampled_from([None, "low", "medium", "high", "critical"])


@st.composite
def _models(draw: st.DrawFn) -> Model:
    names = draw(st.lists(_ident, min_size=4, max_size=9, unique=True))
    params = tuple(
        Parameter(name=f"p_{n}", values=tuple(draw(st.lists(_scalar, min_size=1, max_size=3))))
        for n in draw(st.lists(_ident, max_size=2, unique=True))
    )
    variables = (Variable(name="count", initial=draw(st.integers(0, 3))), Variable(name="flag", initial=False))
    ends = names[-2:] if len(names) > 4 else names[-1:]
    inner = names[1 : len(names) - len(ends)]
    sub = Workflow(
        id="sub", nodes=(Node(id="start", kind="start", next="done"), Node(id="done", kind="end", name="done"))
    )
    nodes = [Node(id=names[0], kind="start", next=(inner or ends)[0])]
    targets = inner + ends
    for node_id in inner:
        kind = draw(st.sampled_from(["step", "choice", "call"]))
        decisions = []
        for i in range(draw(st.integers(1, 3))):
            decisions.append(
                Decision(
                    id=draw(st.sampled_from([None, f"r{i}"])),
                    when=draw(st.sampled_from(["", "count < 2", "flag and count == 1", "not flag"])),
                    set=draw(st.sampled_from(["", "count = count + 1", "flag = not flag; count = 0"])),
                    action=draw(_text),
                    expected=draw(_text),
                    objective=draw(_text),
                    next=draw(st.sampled_from(targets)),
                    after="done" if kind == "call" and draw(st.booleans()) else None,
                    requirements=tuple(draw(st.lists(st.sampled_from(["REQ-1", "REQ-2", "X-9"]), max_size=2))),
                    priority=draw(_level),
                    risk=draw(_level),
                    tags=tuple(draw(st.lists(_ident, max_size=2))),
                    custom=draw(st.dictionaries(_ident, _scalar, max_size=2)),
                )
            )
        nodes.append(
            Node(
                id=node_id,
                kind=kind,
                name=draw(_text),
                description=draw(_text),
                decisions=tuple(decisions),
                workflow="sub" if kind == "call" else None,
            )
        )
    nodes += [Node(id=e, kind="end", name=draw(_text)) for e in ends]
    return Model(
        id="generated",
        name=draw(_text),
        parameters=params,
        variables=variables,
        workflows=(Workflow(id="main", name=draw(_text), nodes=tuple(nodes)), sub),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_models())
def test_generated_models_keep_their_meaning_through_bpmn_and_graphwalker(model: Model) -> None:
    for module in (bpmn, graphwalker):
        back = module.loads(module.dumps(model))
        assert back.warnings == ()
        assert same_meaning(model, back.model, descriptions=True) == [], module.__name__
    # assignments stay parseable (the generated ones are valid)
    for _, decision in model.main.edges():
        parse_assignments(decision.set)


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[n for n, _ in MODELS])
def test_json_text_to_graphwalker_text_to_json_text_keeps_meaning(name: str, model: Model) -> None:
    json_text = io.dumps(model, "json")
    gw_text = io.dumps(io.loads(json_text, "json").model, "graphwalker")
    assert io.detect_format("model.json", gw_text) == "graphwalker"
    again = io.loads(io.dumps(io.loads(gw_text, "graphwalker").model, "json"), "json").model
    assert same_meaning(model, again, descriptions=True) == []
