"""Per-repository configuration: ``.infrawright.toml`` or ``[tool.infrawright]``.

Precedence (later wins): built-in defaults, the repository's file, ``--config FILE``,
command-line flags. Every key is documented on :class:`Config`.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from infrawright.catalog import CatalogEntry, parse_entry
from infrawright.errors import UsageError

CONFIG_FILE = ".infrawright.toml"
DEFAULT_RECREATE = "vagrant destroy -f && vagrant up"


@dataclass(frozen=True)
class Config:
    """Settings that change how a repository is read and checked.

    - ``cluster``: the folder under ``clusters/`` to use (default: the only one, else
      ``local-kube``).
    - ``cluster_file``: the file, relative to the cluster folder, that holds every
      infrastructure Flux Kustomization (default ``infrastructure.yaml``).
    - ``components_dir``: where component folders live (default ``namespaces``).
    - ``flat_layout``: ``false`` switches off the flat-layout rules (IW001, IW002 and the
      orphan part of IW010) for repositories in other layouts, and makes ``auto`` choose
      the flux profile.
    - ``profile``: ``auto`` (default: ``house`` where the repository has the seed's shape,
      else ``flux``), ``house`` or ``flux`` (see :mod:`infrawright.model.profile`).
    - ``house_rules``: house rule IDs to run under the flux profile, e.g. ``["IW007"]``.
    - ``disable``: rule IDs not to run.
    - ``severity``: per-rule severity override, e.g. ``{IW010 = "error"}``.
    - ``crd_dirs``: folders (relative to the repo) with CRD manifests for schema checks.
    - ``providers``: extra CRD providers, ``{<kustomization> = ["group", ...]}``.
    - ``monitoring_stack``: name of the Kustomization that provides the monitoring CRDs
      (default: inferred from the provider index).
    - ``recreate_command``: what the report tells users to run when a rebuild is needed.
    - ``kubernetes_version``: the Kubernetes version (``"1.30"``) whose schemas check the
      built-in kinds (default: the newest installed; ``validate --kubernetes-version``
      overrides it).
    - ``schema_source``: the URL template ``schemas pull`` downloads schemas from (default:
      the community CRD catalog; ``--source`` overrides it).
    - ``build_timeout``: seconds one kustomize build may run before it is stopped and
      reported (default 120; ``validate --build-timeout`` overrides it).
    - ``catalog``: extra or overriding catalog entries (``[[catalog]]`` tables).
    """

    cluster: str | None = None
    cluster_file: str = "infrastructure.yaml"
    components_dir: str = "namespaces"
    flat_layout: bool = True
    profile: str = "auto"
    house_rules: frozenset[str] = frozenset()
    disable: frozenset[str] = frozenset()
    severity: dict[str, str] = field(default_factory=dict)
    crd_dirs: tuple[str, ...] = ()
    providers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    monitoring_stack: str | None = None
    recreate_command: str = DEFAULT_RECREATE
    catalog: tuple[CatalogEntry, ...] = ()
    kubernetes_version: str | None = None
    schema_source: str | None = None
    build_timeout: float | None = None
    #: What set ``kubernetes_version`` (a config file, or the flag), for its messages.
    kubernetes_version_origin: str | None = None
    source: str | None = None
    #: The keys a config file set (the others are defaults, which a layout learnt from
    #: the repository may replace).
    given: frozenset[str] = frozenset()

    def with_flags(self, *, disable: frozenset[str] = frozenset()) -> Config:
        return replace(self, disable=self.disable | disable)

    def with_kubernetes_version(self, version: str | None, origin: str) -> Config:
        """This config with the Kubernetes version a flag asked for (None: unchanged)."""
        if version is None:
            return self
        return replace(self, kubernetes_version=version, kubernetes_version_origin=origin)

    def with_build_timeout(self, value: str | None, origin: str) -> Config:
        """This config with the build time limit a flag gave (None: unchanged); a value
        that is not a positive number of seconds is a usage error."""
        if value is None:
            return self
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        return replace(self, build_timeout=_seconds(seconds, origin, value))


def _seconds(seconds: float, origin: str, given: object) -> float:
    if not 0 < seconds < float("inf"):
        raise UsageError(
            f"{origin}: {given!r} is not a build time limit",
            hint="give a positive number of seconds, e.g. 300",
        )
    return seconds


_KEYS = {
    "cluster",
    "cluster_file",
    "components_dir",
    "flat_layout",
    "profile",
    "house_rules",
    "disable",
    "severity",
    "crd_dirs",
    "providers",
    "monitoring_stack",
    "recreate_command",
    "catalog",
    "kubernetes_version",
    "schema_source",
    "build_timeout",
}


def _apply(base: Config, table: dict[str, Any], origin: str) -> Config:
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise UsageError(
            f"{origin}: unknown config key(s): {', '.join(unknown)}",
            hint=f"known keys: {', '.join(sorted(_KEYS))}",
        )
    changes: dict[str, Any] = {"source": origin, "given": base.given | set(table)}
    for key, value in table.items():
        if key in ("disable", "house_rules"):
            changes[key] = frozenset(str(v).upper() for v in _list(value, origin, key))
        elif key == "profile":
            if value not in ("auto", "house", "flux"):
                raise UsageError(f"{origin}: `profile` must be 'auto', 'house' or 'flux'")
            changes[key] = value
        elif key == "crd_dirs":
            changes[key] = tuple(str(v) for v in _list(value, origin, key))
        elif key == "providers":
            if not isinstance(value, dict):
                raise UsageError(f"{origin}: `providers` must be a table")
            changes[key] = {str(k): tuple(_list(v, origin, k)) for k, v in value.items()}
        elif key == "severity":
            if not isinstance(value, dict) or not all(
                v in ("error", "warning") for v in value.values()
            ):
                raise UsageError(f"{origin}: `severity` maps rule IDs to 'error' or 'warning'")
            changes[key] = {str(k).upper(): str(v) for k, v in value.items()}
        elif key == "catalog":
            entries = _list(value, origin, key)
            changes[key] = tuple(
                parse_entry(e, f"{origin} [[catalog]] #{i + 1}") for i, e in enumerate(entries)
            )
        elif key == "kubernetes_version":
            if not isinstance(value, str):
                raise UsageError(f'{origin}: `kubernetes_version` must be a string, e.g. "1.30"')
            changes[key] = value
            changes["kubernetes_version_origin"] = f"{origin} kubernetes_version"
        elif key == "build_timeout":
            number = isinstance(value, int | float) and not isinstance(value, bool)
            changes[key] = _seconds(
                float(value) if number else -1.0, f"{origin} build_timeout", value
            )
        elif key == "flat_layout":
            if not isinstance(value, bool):
                raise UsageError(f"{origin}: `flat_layout` must be true or false")
            changes[key] = value
        else:
            if not isinstance(value, str):
                raise UsageError(f"{origin}: `{key}` must be a string")
            changes[key] = value
    return replace(base, **changes)


def _list(value: Any, origin: str, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise UsageError(f"{origin}: `{key}` must be a list")
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read config: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from None


def load_config(root: Path, explicit: Path | None = None) -> Config:
    """The repository's config, overridden by ``explicit`` when given."""
    config = Config()
    own = root / CONFIG_FILE
    pyproject = root / "pyproject.toml"
    if own.is_file():
        config = _apply(config, _read_toml(own), CONFIG_FILE)
    elif pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("infrawright")
        if isinstance(table, dict):
            config = _apply(config, table, "pyproject.toml [tool.infrawright]")
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"{explicit}: config file not found")
        config = _apply(config, _read_toml(explicit), str(explicit))
    return config
