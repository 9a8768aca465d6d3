"""The type-driven converter behind the catalog: plain data in, frozen dataclasses out."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest

from infrawright.catalog import parse_entry
from infrawright.catalog.convert import ALIAS, MIN_LENGTH, PATTERN, EntryError, convert
from infrawright.errors import InfrawrightError


@dataclass(frozen=True, kw_only=True)
class Port:
    number: int
    protocol: Literal["TCP", "UDP"] = "TCP"


@dataclass(frozen=True, kw_only=True)
class Thing:
    name: str = field(metadata={PATTERN: r"[a-z]+"})
    tags: tuple[str, ...] = field(default=(), metadata={MIN_LENGTH: 1})
    ratio: float = 1.0
    enabled: bool = False
    port: int | str = 80
    extra: dict[str, object] = field(default_factory=dict)
    labels: dict[str, int | float | str] = field(default_factory=dict)
    ports: tuple[Port, ...] = ()
    main: Port | None = None
    when: str = field(default="0s", metadata={ALIAS: "for"})


def error(cls: type[Any], data: object) -> EntryError:
    with pytest.raises(EntryError) as info:
        convert(cls, data)
    return info.value


def test_defaults_apply_and_lists_become_tuples() -> None:
    thing = convert(Thing, {"name": "x", "tags": ["a", "b"], "ports": [{"number": 1}]})
    assert thing == Thing(name="x", tags=("a", "b"), ports=(Port(number=1),))
    assert thing.tags == ("a", "b") and isinstance(thing.tags, tuple)
    assert thing.ports[0].protocol == "TCP"
    assert (thing.ratio, thing.enabled, thing.port, thing.main, thing.when) == (
        1.0,
        False,
        80,
        None,
        "0s",
    )
    assert thing.extra == {} and thing.extra is not Thing(name="y").extra
    with pytest.raises(dataclasses.FrozenInstanceError):
        thing.name = "y"  # type: ignore[misc]


def test_values_of_the_right_type_are_kept() -> None:
    data = {
        "name": "x",
        "ratio": 2,
        "enabled": True,
        "port": "http",
        "extra": {"a.b": [1, {"c": None}]},
        "labels": {"i": 1, "f": 1.5, "s": "x"},
        "main": {"number": 53, "protocol": "UDP"},
        "for": "5m",
    }
    thing = convert(Thing, data)
    assert thing.ratio == 2.0 and isinstance(thing.ratio, float)
    assert thing.enabled is True and thing.port == "http" and thing.when == "5m"
    assert thing.extra == {"a.b": [1, {"c": None}]}  # object values are left alone
    assert [type(v) for v in thing.labels.values()] == [int, float, str]
    assert thing.main == Port(number=53, protocol="UDP")
    assert convert(Thing, {"name": "x", "when": "5m"}).when == "5m"  # field name as key
    assert convert(Thing, thing) is thing


@pytest.mark.parametrize(
    ("data", "loc", "msg"),
    [
        ({"name": 5}, ("name",), "Input should be a valid string"),
        ({"name": "x", "ratio": "1.0"}, ("ratio",), "Input should be a valid number"),
        ({"name": "x", "enabled": "yes"}, ("enabled",), "Input should be a valid boolean"),
        ({"name": "x", "enabled": 1}, ("enabled",), "Input should be a valid boolean"),
        ({"name": "x", "main": {"number": "53"}}, ("main", "number"), "valid integer"),
        ({"name": "x", "main": {"number": 1.0}}, ("main", "number"), "valid integer"),
        ({"name": "x", "port": 1.5}, ("port",), "a valid integer or a valid string"),
        ({"name": "x", "labels": {"a": None}}, ("labels", "a"), "valid integer or a valid"),
        ({"name": "x", "labels": {1: 1}}, ("labels", 1), "Key: Input should be a valid"),
        ({"name": "x", "tags": "a"}, ("tags",), "Input should be a list"),
        ({"name": "x", "extra": []}, ("extra",), "Input should be a mapping"),
        ({"name": "x", "main": "53"}, ("main",), "Input should be a mapping of Port"),
    ],
)
def test_wrong_types_are_rejected(data: object, loc: tuple[str | int, ...], msg: str) -> None:
    problem = error(Thing, data)
    assert problem.loc == loc
    assert msg in problem.msg


@pytest.mark.parametrize("value", [True, False])
def test_bool_is_not_an_integer(value: bool) -> None:
    problem = error(Port, {"number": value})
    assert problem.loc == ("number",) and problem.msg == "Input should be a valid integer"
    assert error(Thing, {"name": "x", "port": value}).loc == ("port",)
    assert error(Thing, {"name": "x", "ratio": value}).loc == ("ratio",)


def test_unknown_keys_are_rejected_after_the_known_ones() -> None:
    problem = error(Thing, {"name": "x", "colour": "red"})
    assert (problem.loc, problem.msg) == (("colour",), "Extra inputs are not permitted")
    assert error(Thing, {"colour": "red"}).loc == ("name",)  # the first problem wins
    # Given both, the alias is used and the field name counts as an unknown key.
    assert error(Thing, {"name": "x", "for": "1s", "when": "2s"}).loc == ("when",)


def test_missing_required_keys_are_reported_by_their_data_name() -> None:
    assert (error(Thing, {}).loc, error(Thing, {}).msg) == (("name",), "Field required")
    assert error(Thing, {"name": "x", "ports": [{}, {}]}).loc == ("ports", 0, "number")


def test_literal_mismatch() -> None:
    problem = error(Port, {"number": 1, "protocol": "SCTP"})
    assert problem.loc == ("protocol",)
    assert problem.msg == "Input should be 'TCP' or 'UDP'"


def test_pattern_must_match_the_whole_string() -> None:
    for name in ("X", "ab1", "ab\n", ""):
        problem = error(Thing, {"name": name})
        assert problem.loc == ("name",)
        assert problem.msg == "String should match pattern '[a-z]+'"


def test_min_length() -> None:
    problem = error(Thing, {"name": "x", "tags": []})
    assert problem.loc == ("tags",)
    assert problem.msg == "List should have at least 1 item, not 0"


def test_a_non_mapping_is_rejected_at_the_top_level() -> None:
    problem = error(Thing, ["name"])
    assert problem.loc == () and str(problem).startswith("top level: ")


def _entry_with_alert(**changes: str) -> dict[str, object]:
    """A catalog entry with one alert, ``changes`` applied to the alert."""
    alert = {
        "name": "ExampleDown",
        "keywords": ["down"],
        "expr": "example_up == 0",
        "for": "5m",
        "severity": "critical",
        "summary": "down",
        "source": "https://example.com",
        **changes,
    }
    return {
        "name": "example",
        "category": "operations",
        "description": "test entry",
        "namespace": "example",
        "metrics": {"port": 8080, "alerts": [alert]},
        "pss": {"level": "restricted", "reason": "test"},
        "sources": ["https://example.com"],
    }


def test_post_init_value_errors_are_located_at_the_dataclass() -> None:
    with pytest.raises(InfrawrightError) as info:
        parse_entry(_entry_with_alert(expr="example_up < {limit}"), "x.yaml")
    assert str(info.value).startswith(
        "x.yaml: catalog entry is invalid at metrics.alerts.0: "
        "placeholders without a default in params: limit"
    )


def test_nested_locations_name_the_data_keys() -> None:
    with pytest.raises(InfrawrightError) as info:
        parse_entry(_entry_with_alert(**{"for": "ten minutes"}), "x.yaml")
    assert str(info.value).startswith(
        "x.yaml: catalog entry is invalid at metrics.alerts.0.for: String should match pattern"
    )


def test_unsupported_annotations_are_a_programming_error() -> None:
    @dataclass(frozen=True)
    class Odd:
        items: list[str]

    with pytest.raises(TypeError, match="does not support"):
        convert(Odd, {"items": []})


def test_the_catalog_loads_without_pydantic() -> None:
    code = (
        "import infrawright.catalog as c, sys; c.builtin_catalog(); "
        "assert 'pydantic' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
