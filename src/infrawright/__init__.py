"""infrawright: implement and validate infrastructure changes in Flux GitOps repositories."""

from __future__ import annotations

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    # Looked up on first use: reading the package metadata costs 40 ms at every start.
    if name != "__version__":
        raise AttributeError(f"module 'infrawright' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("infrawright")
    except PackageNotFoundError:  # running from a source tree that is not installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found
