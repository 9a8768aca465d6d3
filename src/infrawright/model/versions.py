"""Chart versions and the ranges a HelmRelease or OCIRepository asks for."""

from __future__ import annotations

import re

#: ``1.x``, ``1.2.x``, ``1.*``: every version of that line.
_X_RANGE = re.compile(r"(\d+(?:\.\d+)?)\.[xX*]")
_PLAIN = re.compile(r"\d+\.\d+\.\d+")


def admits(wanted: str, version: str) -> bool:
    """Does the version or range ``wanted`` (``1.2.3``, ``1.x``, ``>=1.2.0 <2.0.0``,
    ``^1.2``, with or without a leading ``v``) admit ``version``? Ranges are read as
    Masterminds/semver reads them (what Flux uses); a ``wanted`` that is no version or
    range admits only itself."""
    if wanted.lstrip("v") == version.lstrip("v"):
        return True
    wildcard = _X_RANGE.fullmatch(wanted.lstrip("v"))
    if wildcard and _PLAIN.fullmatch(version.lstrip("v")):  # the pin styles written here
        return version.lstrip("v").startswith(wildcard.group(1) + ".")
    from nodesemver import satisfies  # the other ranges (^1.2, >=1 <2, ~1.2): 25 ms import

    try:
        return bool(satisfies(version.lstrip("v"), wanted, loose=True))
    except (ValueError, TypeError):
        return False


def is_exactly(wanted: str, version: str) -> bool:
    """Is ``wanted`` this very version (a pin), not a range that admits it?"""
    return wanted.lstrip("v") == version.lstrip("v")
