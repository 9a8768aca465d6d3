"""Bootstrap layers and cycles."""

from __future__ import annotations

from infrawright.model.graph import build_graph, find_cycles


def test_layer_is_longest_path_from_a_root() -> None:
    graph = build_graph({"cni": [], "certs": ["cni"], "issuers": ["certs", "cni"], "x": []})
    assert graph.layers == {"certs": 1, "cni": 0, "issuers": 2, "x": 0}
    assert graph.by_layer() == [(0, ["cni", "x"]), (1, ["certs"]), (2, ["issuers"])]


def test_crd_edges_are_marked() -> None:
    graph = build_graph({"a": [], "b": ["a"]}, {("b", "a")})
    assert [(e.source, e.target, e.crd) for e in graph.edges] == [("b", "a", True)]


def test_cycles_are_found_and_have_no_layer() -> None:
    deps = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": []}
    graph = build_graph(deps)
    assert graph.cycles == (("a", "b", "c"),)
    assert graph.layers["a"] is None and graph.layers["d"] is None
    assert graph.layers["e"] == 0


def test_self_dependency_is_a_cycle() -> None:
    assert find_cycles({"a": ["a"]}) == [("a",)]
    assert build_graph({"a": ["a"]}).layers == {"a": None}


def test_unknown_targets_do_not_break_layers() -> None:
    assert build_graph({"a": ["missing"]}).layers == {"a": 0}


def test_long_chain_is_iterative() -> None:
    deps = {f"n{i}": [f"n{i - 1}"] if i else [] for i in range(5000)}
    assert build_graph(deps).layers["n4999"] == 4999
