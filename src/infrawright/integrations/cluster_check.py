"""Compare the live cluster with the repository, reading only.

The cluster is asked one question, ``kubectl get kustomizations... -A -o json``, locally or
through ``ssh USER@HOST``. Every command goes through :func:`run_readonly`, whose first
step is :func:`allowed`, the one gate: ``kubectl get|describe|events`` and ``flux get``,
nothing that names Secrets, no ``--raw``, no manifests (``-f``/``-k``), no watching.
Anything else raises :class:`RefusedError` before a process is started. Commands run
without a shell; over ssh, the remote command line is built with :func:`shlex.quote` on
every argument, so an argument can never become a second command.

The answer is set against the repository's dependsOn graph: Kustomizations that are not
Ready are listed in bootstrap order, each either *blocked* (a dependency is not Ready or
not there) or *failing* on its own (with Flux's condition message); Kustomizations of the
repository missing from the cluster, and ones in the cluster the repository does not
define, are listed too.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infrawright.errors import (
    ExitCode,
    InfrawrightError,
    RefusedError,
    ToolMissingError,
    UsageError,
)
from infrawright.model.graph import Graph, build_graph
from infrawright.model.repo import RepoModel

Runner = Callable[[list[str]], tuple[int, str, str]]

KUSTOMIZATIONS = "kustomizations.kustomize.toolkit.fluxcd.io"
TIMEOUT_SECONDS = 60
SSH_OPTIONS = ("-o", "BatchMode=yes", "-o", "ConnectTimeout=15")

#: Tool -> the verbs that only read. The verb must directly follow the tool.
READ_VERBS: Mapping[str, frozenset[str]] = {
    "kubectl": frozenset({"get", "describe", "events"}),
    "flux": frozenset({"get"}),
}
SECRET_WORDS = frozenset({"secret", "secrets"})
#: ``--raw`` reads any API path (Secrets too); ``-f``/``-k`` fetch whatever a manifest
#: names; watching never ends.
REFUSED_LONG = ("--raw", "--filename", "--kustomize", "--watch", "--watch-only")
REFUSED_SHORT = frozenset("fkw")
#: Short flags that take a value: ``-ojson`` is ``-o json``, not a bundle of flags.
VALUE_SHORT = frozenset("onlcs")
#: Flags whose value is a local path, never a resource name.
PATH_FLAGS = ("--kubeconfig",)
SSH_TARGET = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9_.+-]*@)?[A-Za-z0-9_][A-Za-z0-9_.:-]*$")


def _names_secret(arg: str) -> bool:
    """True when any word of ``arg`` is ``secret``/``secrets`` (``secret/x``,
    ``pods,secrets``, ``Secret.v1``, ``--for=secret/x``...)."""
    return any(word in SECRET_WORDS for word in re.split(r"[^a-z0-9-]+", arg.lower()))


def _refused_flag(arg: str) -> bool:
    if arg.startswith("--"):
        name = arg.split("=", 1)[0]
        return name in REFUSED_LONG
    if arg.startswith("-") and len(arg) > 1:
        letters = arg[1:]
        for letter in letters:
            if letter in REFUSED_SHORT:
                return True
            if letter in VALUE_SHORT or not letter.isalpha():
                return False  # the rest is this flag's value
    return False


def allowed(argv: list[str]) -> bool:
    """The single gate: may ``argv`` run? Read-only kubectl/flux commands, never Secrets."""
    if not argv or any(not isinstance(a, str) or "\x00" in a for a in argv):
        return False
    tool, *rest = argv
    verbs = READ_VERBS.get(tool)
    if verbs is None or not rest or rest[0] not in verbs:
        return False
    skip_value = False
    for arg in rest[1:]:
        if skip_value:
            skip_value = False
            continue
        if arg in PATH_FLAGS:
            skip_value = True
            continue
        if any(arg.startswith(f"{flag}=") for flag in PATH_FLAGS):
            continue
        if _refused_flag(arg) or _names_secret(arg):
            return False
    return True


def remote_command(argv: list[str]) -> str:
    """One command line for a remote shell: every argument quoted."""
    return " ".join(shlex.quote(arg) for arg in argv)


def ssh_argv(target: str, argv: list[str]) -> list[str]:
    """``ssh ... -- TARGET 'QUOTED COMMAND'``; the target cannot be an option."""
    if not SSH_TARGET.match(target):
        raise UsageError(
            f"--ssh {target!r}: expected USER@HOST or HOST",
            hint="letters, digits, '.', '-', '_' and ':' only; it cannot start with '-'",
        )
    return ["ssh", *SSH_OPTIONS, "--", target, remote_command(argv)]


def default_runner(argv: list[str]) -> tuple[int, str, str]:
    """Run ``argv`` without a shell, with a timeout; (exit code, stdout, stderr)."""
    try:
        done = subprocess.run(
            argv,
            shell=False,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise ToolMissingError(
            f"{argv[0]}: not found on PATH",
            hint="install it, or use --ssh USER@HOST to ask a machine that has it",
        ) from None
    except subprocess.TimeoutExpired:
        raise InfrawrightError(
            f"{argv[0]}: no answer within {TIMEOUT_SECONDS}s", hint="is the cluster reachable?"
        ) from None
    return done.returncode, done.stdout, done.stderr


def run_readonly(
    argv: list[str], *, ssh: str | None = None, runner: Runner | None = None
) -> tuple[int, str, str]:
    """Run an allowlisted reading command, here or over ssh. Anything else is refused."""
    if not allowed(argv):
        raise RefusedError(
            f"refused to run {shlex.join(argv) if argv else '(empty command)'}",
            hint="only kubectl get/describe/events and flux get run, never on Secrets",
        )
    final = ssh_argv(ssh, argv) if ssh else list(argv)
    return (runner or default_runner)(final)


# -- the report ----------------------------------------------------------------------


@dataclass(frozen=True)
class LiveKustomization:
    """A Kustomization as the cluster reports it."""

    namespace: str
    name: str
    ready: bool
    status: str  # the Ready condition's status: True, False, Unknown, or "" (none yet)
    reason: str
    message: str
    suspended: bool
    depends_on: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class NotReady:
    """A Kustomization that is not Ready: blocked by dependencies, or failing itself."""

    name: str
    layer: int | None
    status: str
    reason: str
    message: str
    blocked_by: tuple[str, ...] = ()
    suspended: bool = False

    @property
    def state(self) -> str:
        return "blocked" if self.blocked_by else "failing"


@dataclass(frozen=True)
class ClusterReport:
    """What the cluster says, in the repository's terms (graph labels)."""

    target: str
    command: tuple[str, ...]
    ready: tuple[str, ...]
    not_ready: tuple[NotReady, ...]
    missing_from_cluster: tuple[str, ...]
    not_in_repo: tuple[str, ...]
    layers: Mapping[str, int | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Every Kustomization of the repository is in the cluster and Ready."""
        return not self.not_ready and not self.missing_from_cluster

    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.ok else ExitCode.FINDINGS

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "command": list(self.command),
            "ok": self.ok,
            "ready": list(self.ready),
            "not_ready": [
                {
                    "name": n.name,
                    "layer": n.layer,
                    "state": n.state,
                    "blocked_by": list(n.blocked_by),
                    "status": n.status,
                    "reason": n.reason,
                    "message": n.message,
                    "suspended": n.suspended,
                }
                for n in self.not_ready
            ],
            "missing_from_cluster": list(self.missing_from_cluster),
            "not_in_repo": list(self.not_in_repo),
        }


def dependency_graph(model: RepoModel) -> Graph:
    """The dependsOn graph without building anything (same layers as ``analyze``; CRD
    edges are not marked)."""
    deps = {
        label: [model.label_of(d) for d in ks.depends_on] for label, ks in model.by_label.items()
    }
    return build_graph(deps)


def check_cluster(
    model: RepoModel,
    graph: Graph,
    *,
    ssh: str | None = None,
    kubeconfig: Path | None = None,
    runner: Runner | None = None,
) -> ClusterReport:
    """Ask the cluster for its Flux Kustomizations and compare them with the repository."""
    argv = ["kubectl", "get", KUSTOMIZATIONS, "-A", "-o", "json"]
    if kubeconfig is not None:
        argv += ["--kubeconfig", str(kubeconfig)]
    where = f"ssh {ssh}" if ssh else "local"
    code, out, err = run_readonly(argv, ssh=ssh, runner=runner)
    if code != 0:
        said = [line.strip() for line in err.splitlines() if line.strip()]
        detail = said[-1][:300] if said else "no message"  # kubectl's summary comes last
        raise InfrawrightError(
            f"{shlex.join(argv)} ({where}) failed with exit code {code}: {detail}",
            hint="is the cluster reachable, and is Flux installed?",
        )
    live = parse_kustomizations(out)
    return compare(model, graph, live, target=where, command=argv)


def parse_kustomizations(text: str) -> list[LiveKustomization]:
    """The Kustomizations in ``kubectl get ... -o json`` output."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InfrawrightError(f"kubectl did not answer with JSON ({exc})") from None
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise InfrawrightError("kubectl answered without an 'items' list")
    found: list[LiveKustomization] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        meta = _mapping(item.get("metadata"))
        spec = _mapping(item.get("spec"))
        name = str(meta.get("name") or "")
        if not name:
            continue
        namespace = str(meta.get("namespace") or "flux-system")
        ready = next(
            (
                c
                for c in _list(_mapping(item.get("status")).get("conditions"))
                if isinstance(c, dict) and c.get("type") == "Ready"
            ),
            {},
        )
        deps = tuple(
            (str(d.get("namespace") or namespace), str(d["name"]))
            for d in _list(spec.get("dependsOn"))
            if isinstance(d, dict) and d.get("name")
        )
        status = str(ready.get("status") or "")
        found.append(
            LiveKustomization(
                namespace=namespace,
                name=name,
                ready=status == "True",
                status=status,
                reason=str(ready.get("reason") or ""),
                message=" ".join(str(ready.get("message") or "").split()),
                suspended=bool(spec.get("suspend")),
                depends_on=deps,
            )
        )
    return found


def compare(
    model: RepoModel,
    graph: Graph,
    live: list[LiveKustomization],
    *,
    target: str = "local",
    command: list[str] | None = None,
) -> ClusterReport:
    """Set the cluster's Kustomizations against the repository's graph."""
    labels = model.labels
    in_cluster = {labels.get((k.namespace, k.name), f"{k.namespace}/{k.name}"): k for k in live}
    repo_labels = set(model.by_label)
    layers = dict(graph.layers)

    def order(label: str) -> tuple[int, int, str]:
        layer = layers.get(label)
        return (0 if label in repo_labels else 1, layer if layer is not None else 1 << 30, label)

    ready = {label for label, k in in_cluster.items() if k.ready}
    not_ready: list[NotReady] = []
    for label in sorted(in_cluster, key=order):
        k = in_cluster[label]
        if k.ready:
            continue
        if label in repo_labels:
            deps = graph.depends_on(label)
        else:
            deps = [labels.get(key, f"{key[0]}/{key[1]}") for key in k.depends_on]
        blockers = tuple(sorted({d for d in deps if d not in ready}, key=order))
        not_ready.append(
            NotReady(
                name=label,
                layer=layers.get(label),
                status=k.status,
                reason=k.reason,
                message=k.message,
                blocked_by=blockers,
                suspended=k.suspended,
            )
        )
    return ClusterReport(
        target=target,
        command=tuple(command or ()),
        ready=tuple(sorted(ready, key=order)),
        not_ready=tuple(not_ready),
        missing_from_cluster=tuple(sorted(repo_labels - set(in_cluster), key=order)),
        not_in_repo=tuple(sorted(set(in_cluster) - repo_labels)),
        layers=layers,
    )


def render_text(report: ClusterReport) -> str:
    """The report for people: not-Ready Kustomizations first, in bootstrap order."""
    lines = [
        f"cluster ({report.target}): {len(report.ready)} Ready, "
        f"{len(report.not_ready)} not Ready, {len(report.missing_from_cluster)} missing, "
        f"{len(report.not_in_repo)} not in the repository"
    ]
    if report.ok:
        lines.append("every Kustomization of the repository is in the cluster and Ready")
    missing = set(report.missing_from_cluster)
    if report.not_ready:
        lines.append("")
        lines.append("Not Ready, in bootstrap order:")
        width = max(len(n.name) for n in report.not_ready)
        for n in report.not_ready:
            layer = f"layer {n.layer}" if n.layer is not None else "no layer"
            if n.blocked_by:
                why = "blocked by " + ", ".join(
                    f"{b} (missing)" if b in missing else b for b in n.blocked_by
                )
            else:
                cause = ": ".join(p for p in (n.reason, n.message) if p)
                why = "failing: " + (cause or f"Ready={n.status or 'not reported yet'}")
            suspended = " [suspended]" if n.suspended else ""
            lines.append(f"  {layer:<8}  {n.name:<{width}}  {why}{suspended}")
        roots = [n.name for n in report.not_ready if not n.blocked_by]
        if roots:
            lines.append(f"Start with: {', '.join(roots)} (the others wait for them)")
    if report.missing_from_cluster:
        lines.append("")
        lines.append("In the repository, missing from the cluster:")
        for name in report.missing_from_cluster:
            at = report.layers.get(name)
            lines.append(f"  {name}" + (f" (layer {at})" if at is not None else ""))
    if report.not_in_repo:
        lines.append("")
        lines.append("In the cluster, not in the repository:")
        lines.extend(f"  {name}" for name in report.not_in_repo)
    return "\n".join(lines) + "\n"


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
