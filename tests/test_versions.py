"""Chart versions against the versions or ranges a release asks for."""

from __future__ import annotations

import pytest

from infrawright.model.versions import admits, is_exactly


@pytest.mark.parametrize(
    ("wanted", "version", "expected"),
    [
        ("1.2.3", "1.2.3", True),
        ("v1.2.3", "1.2.3", True),
        ("1.x", "1.10.1", True),
        ("1.x", "10.0.0", False),  # a prefix of digits is not the same major
        ("0.16.x", "0.16.1", True),
        ("0.16.x", "0.17.0", False),
        ("1.2.x", "1.20.0", False),
        ("v1.20.x", "1.20.1", True),
        ("2.x", "1.0.0", False),
        ("*", "3.0.0", True),
        (">=1.0.0 <2.0.0", "1.5.0", True),
        (">=1.0.0, <2.0.0", "2.0.0", False),
        ("^1.2", "1.9.0", True),
        ("~1.2.0", "1.3.0", False),
        ("not a version", "1.0.0", False),
    ],
)
def test_admits(wanted: str, version: str, expected: bool) -> None:
    assert admits(wanted, version) is expected


def test_a_pin_is_that_version_only() -> None:
    assert is_exactly("v2.41.0", "2.41.0")
    assert not is_exactly("2.41.x", "2.41.0")
