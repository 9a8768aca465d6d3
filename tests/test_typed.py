"""Records read from plain data (infrawright.typed, over msgspec): strict types, tuples for
lists, unknown keys refused, and every problem located by its dotted path."""

from __future__ import annotations

import subprocess
import sys
from typing import Annotated, Literal

import msgspec
import pytest

from infrawright.catalog import parse_entry
from infrawright.errors import InfrawrightError
from infrawright.typed import DataError, Frozen, read


class Port(Frozen, frozen=True, kw_only=True):
    number: int
    protocol: Literal["TCP", "UDP"] = "TCP"


class Thing(Frozen, frozen=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z]+$")]
    tags: Annotated[tuple[str, ...], msgspec.Meta(min_length=1)] = ()
    ratio: float = 1.0
    enabled: bool = False
    port: int | str = 80
    extra: dict[str, object] = msgspec.field(default_factory=dict)
    labels: dict[str, int | float | str] = msgspec.field(default_factory=dict)
    ports: tuple[Port, ...] = ()
    main: Port | None = None
    when: str = msgspec.field(default="0s", name="for")


def error(cls: type[object], data: object) -> DataError:
    with pytest.raises(DataError) as info:
        read(cls, data)
    return info.value


def test_defaults_apply_and_lists_become_tuples() -> None:
    thing = read(Thing, {"name": "x", "tags": ["a", "b"], "ports": [{"number": 1}]})
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
    with pytest.raises(AttributeError):
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
    thing = read(Thing, data)
    assert thing.ratio == 2.0 and isinstance(thing.ratio, float)
    assert thing.enabled is True and thing.port == "http" and thing.when == "5m"
    assert thing.extra == {"a.b": [1, {"c": None}]}  # object values are left alone
    assert [type(v) for v in thing.labels.values()] == [int, float, str]
    assert thing.main == Port(number=53, protocol="UDP")
    assert read(Thing, thing) is thing


@pytest.mark.parametrize(
    ("data", "where", "what"),
    [
        ({"name": 5}, "name", "Expected `str`, got `int`"),
        ({"name": "x", "ratio": "1.0"}, "ratio", "Expected `float`, got `str`"),
        ({"name": "x", "enabled": "yes"}, "enabled", "Expected `bool`, got `str`"),
        ({"name": "x", "enabled": 1}, "enabled", "Expected `bool`, got `int`"),
        ({"name": "x", "main": {"number": "53"}}, "main.number", "Expected `int`, got `str`"),
        ({"name": "x", "main": {"number": 1.0}}, "main.number", "Expected `int`, got `float`"),
        ({"name": "x", "port": 1.5}, "port", "Expected `int | str`, got `float`"),
        ({"name": "x", "labels": {"a": None}}, "labels[...]", "got `null`"),
        ({"name": "x", "labels": {1: 1}}, "labels", "a key: Expected `str`"),
        ({"name": "x", "tags": "a"}, "tags", "Expected `array`, got `str`"),
        ({"name": "x", "extra": []}, "extra", "Expected `object`, got `array`"),
        ({"name": "x", "main": "53"}, "main", "Expected `object | null`, got `str`"),
        ({"name": "x", "ports": [{"number": 1}, {"number": "1"}]}, "ports.1.number", "`int`"),
    ],
)
def test_wrong_types_are_rejected(data: object, where: str, what: str) -> None:
    problem = error(Thing, data)
    assert problem.where == where
    assert what in problem.what


@pytest.mark.parametrize("value", [True, False])
def test_bool_is_not_an_integer(value: bool) -> None:
    problem = error(Port, {"number": value})
    assert (problem.where, problem.what) == ("number", "Expected `int`, got `bool`")
    assert error(Thing, {"name": "x", "port": value}).where == "port"
    assert error(Thing, {"name": "x", "ratio": value}).where == "ratio"


def test_unknown_keys_are_rejected_where_they_are() -> None:
    problem = error(Thing, {"name": "x", "colour": "red"})
    assert (problem.where, problem.what) == ("colour", "unknown field")
    assert error(Thing, {"name": "x", "main": {"number": 1, "x": 2}}).where == "main.x"
    # The data's name of a renamed field is the only one: the attribute name is unknown.
    assert error(Thing, {"name": "x", "when": "2s"}).where == "when"


def test_missing_required_keys_are_reported_by_their_data_name() -> None:
    assert (error(Thing, {}).where, error(Thing, {}).what) == ("name", "required field missing")
    assert error(Thing, {"name": "x", "ports": [{}, {}]}).where == "ports.0.number"


def test_literal_mismatch() -> None:
    problem = error(Port, {"number": 1, "protocol": "SCTP"})
    assert (problem.where, problem.what) == ("protocol", "Invalid enum value 'SCTP'")


@pytest.mark.parametrize("name", ["X", "ab1", ""])
def test_pattern_must_match(name: str) -> None:
    problem = error(Thing, {"name": name})
    assert (problem.where, problem.what) == ("name", "Expected `str` matching regex '^[a-z]+$'")


def test_min_length() -> None:
    problem = error(Thing, {"name": "x", "tags": []})
    assert (problem.where, problem.what) == ("tags", "Expected `array` of length >= 1")


def test_a_non_mapping_is_rejected_at_the_top_level() -> None:
    problem = error(Thing, ["name"])
    assert problem.where == "" and str(problem).startswith("top level: ")


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


def test_post_init_value_errors_are_located_at_their_record() -> None:
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
        "x.yaml: catalog entry is invalid at metrics.alerts.0.for: Expected `str` matching regex"
    )


def test_the_catalog_loads_without_pydantic() -> None:
    code = (
        "import infrawright.catalog as c, sys; c.builtin_catalog(); "
        "assert 'pydantic' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
