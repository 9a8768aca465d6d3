"""infrawright: implement and validate infrastructure changes in Flux GitOps repositories."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("infrawright")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
