"""One set of tools for every front end: the LLM agent, the MCP server, scripts.

Each tool is a method whose docstring is its description and whose annotations are its
schema. A model never writes to the repository directly: ``write_file`` stages a file in
the pending change, ``validate`` checks the staged tree, and ``finish`` applies it only
when it adds no finding (``discard`` drops it). Whatever a model proposes is held to the
same rules as the rule planner. Errors a caller can fix come back as :class:`ToolError`
with a message; :meth:`Tools.call` turns every error into such a result, so nothing
raises past the tool boundary.
"""

from __future__ import annotations

import inspect
import os
import posixpath
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from infrawright.change.apply import safe_target
from infrawright.change.implement import Outcome, settle, validate_in_scratch
from infrawright.change.sessions import SessionStore, repo_lock
from infrawright.errors import InfrawrightError
from infrawright.model.conventions import infer
from infrawright.model.flux import HELM_GROUP, KUSTOMIZE_GROUP
from infrawright.model.loader import load_repo
from infrawright.model.repo import RepoModel
from infrawright.plan.facts import RepoFacts
from infrawright.plan.model import DNS_LABEL, parse_plan, plan_json
from infrawright.plan.rules import plan_request
from infrawright.render.changeset import Changeset, Review
from infrawright.repo.documents import parse_text
from infrawright.repo.references import references
from infrawright.report.formats import graph_json
from infrawright.validate.engine import ValidationResult, validate
from infrawright.validate.rules import RULES
from infrawright.validate.rules.iw006_banned_workarounds import banned_in_patch, banned_in_spec

MAX_WRITE_BYTES = 512 * 1024
#: What ``read_file`` returns without asking which kustomization reads it.
READABLE_SUFFIXES = (".yaml", ".yml", ".md", ".json")
TOOL_NAMES = (
    "inspect_repo",
    "read_file",
    "graph",
    "validate",
    "explain_rule",
    "plan",
    "implement",
    "apply_plan",
    "write_file",
    "finish",
    "discard",
)


class ToolError(Exception):
    """An error the caller (a model) can act on; its message is the tool's answer."""


class Tools:
    """The tools, bound to one repository; holds the pending (staged) change."""

    def __init__(
        self,
        root: Path,
        *,
        cluster: str | None = None,
        crd_dirs: list[Path] | None = None,
        config_file: Path | None = None,
    ) -> None:
        self.root = root.resolve()
        self.cluster = cluster
        self.crd_dirs = list(crd_dirs or [])
        self.config_file = config_file
        self.pending = Changeset()
        self.last_outcome: Outcome | None = None
        self._model: RepoModel | None = None
        self._before: ValidationResult | None = None
        self._signature: tuple[tuple[str, int, int], ...] = ()

    # -- plumbing --------------------------------------------------------------------
    def model(self) -> RepoModel:
        """The repository as it is now: re-read when any YAML file changed on disk (an
        editor, a git pull) since it was last loaded."""
        signature = _signature(self.root)
        if self._model is None or signature != self._signature:
            self._model = load_repo(self.root, cluster=self.cluster, config_file=self.config_file)
            self._before = None
            self._signature = signature
        return self._model

    def before(self) -> ValidationResult:
        self.model()  # drops the cached validation when the tree changed
        if self._before is None:
            self._before = validate(self.model(), crd_dirs=self.crd_dirs)
        return self._before

    def _refresh(self) -> None:
        self._model = None
        self._before = None

    def schemas(self) -> list[dict[str, Any]]:
        """Name, description and JSON-schema parameters of every tool."""
        return [tool_schema(getattr(self, name)) for name in TOOL_NAMES]

    def call(self, name: str, arguments: dict[str, Any]) -> tuple[bool, Any]:
        """Run a tool by name: (True, result) or (False, error message). Never raises."""
        if name not in TOOL_NAMES:
            return False, f"unknown tool {name!r}; tools: {', '.join(TOOL_NAMES)}"
        method = getattr(self, name)
        try:
            bound = inspect.signature(method).bind(**arguments)
        except TypeError as exc:
            return False, f"{name}: bad arguments ({exc})"
        wrong = _type_errors(method, bound.arguments)
        if wrong:
            return False, f"{name}: {'; '.join(wrong)}"
        try:
            return True, method(*bound.args, **bound.kwargs)
        except ToolError as exc:
            return False, str(exc)
        except InfrawrightError as exc:
            return False, str(exc)
        except (ValueError, OSError) as exc:
            return False, f"{name}: {exc}"
        except Exception as exc:  # the boundary: a model gets a message, never a crash
            return False, f"{name}: internal error ({type(exc).__name__}: {exc})"

    # -- reading ---------------------------------------------------------------------
    def inspect_repo(self) -> dict[str, Any]:
        """Summary of the repository: components, Flux Kustomizations with their
        dependsOn and layer, the inferred conventions, catalog charts installed, and
        the files a model may write."""
        model = self.model()
        analysis = self.before().analysis
        facts = RepoFacts.from_model(model)
        return {
            "root": str(model.root),
            "cluster": model.cluster,
            "cluster_file": model.cluster_file,
            "components_dir": model.config.components_dir,
            "components": {
                name: {k: v for k, v in asdict(c).items() if k not in ("name", "values")}
                for name, c in sorted(facts.components.items())
            },
            "kustomizations": {
                label: {
                    "path": ks.path,
                    "depends_on": [model.label_of(d) for d in ks.depends_on],
                    "layer": analysis.graph.layers.get(label),
                    "file": ks.doc.file,
                }
                for label, ks in sorted(model.by_label.items())
            },
            "conventions": {name: c.value for name, c in infer(model).rows()},
            "findings": len(self.before().findings),
            "pending": sorted(self.pending.files),
            "writable": [
                f"{model.config.components_dir}/<component>/**.yaml",
                *([model.cluster_file] if model.cluster_file else []),
            ],
        }

    def read_file(self, path: str) -> str:
        """Text of a file of the repository's Flux tree: YAML, Markdown, JSON, or a file a
        kustomization reads (a generator's files, a patch); as staged, if a pending write
        changed it. Hidden files and files over 512 KiB are not returned."""
        rel = self._relative(path)
        if any(part.startswith(".") for part in rel.split("/")):
            raise ToolError(f"{rel}: hidden files and folders are not readable")
        if not rel.endswith(READABLE_SUFFIXES) and rel not in self._kustomize_inputs():
            raise ToolError(
                f"{rel}: not readable: only YAML, Markdown and JSON files and the files a "
                "kustomization.yaml reads are"
            )
        if rel in self.pending.files:
            data = self.pending.files[rel]
            if data is None:
                raise ToolError(f"{rel} is deleted in the pending change")
            return data.decode("utf-8")
        target = safe_target(self.root, rel)
        if not target.is_file():
            raise ToolError(f"{rel}: no such file")
        if target.stat().st_size > MAX_WRITE_BYTES:
            raise ToolError(f"{rel}: larger than {MAX_WRITE_BYTES} bytes; not returned")
        return target.read_text(encoding="utf-8", errors="replace")

    def graph(self) -> dict[str, Any]:
        """The dependsOn graph: bootstrap layers and edges (CRD edges marked)."""
        return graph_json(self.before().analysis.graph)

    def validate(self) -> dict[str, Any]:
        """Validate the repository with the pending change applied (kustomize builds,
        schemas, every rule). ``new_findings`` are those the pending change adds."""
        before = self.before()
        if self.pending.is_empty():
            return {
                "pending": [],
                "passed": True,
                "findings": [f.to_dict() for f in before.findings],
                "new_findings": [],
            }
        _after, result = validate_in_scratch(self.model(), self.pending, self.crd_dirs, before)
        known = {(f.rule, f.file, f.message) for f in before.findings}
        new = [f for f in result.findings if (f.rule, f.file, f.message) not in known]
        return {
            "pending": sorted(self.pending.files),
            "passed": not new,
            "findings": [f.to_dict() for f in result.findings],
            "new_findings": [f.to_dict() for f in new],
        }

    def explain_rule(self, rule_id: str) -> str:
        """Statement, reason, bad and good example of a rule (e.g. IW003)."""
        key = rule_id.strip().upper()
        if key not in RULES:
            raise ToolError(f"unknown rule {rule_id!r}; rules: {', '.join(RULES)}")
        return RULES[key][2]

    # -- planning and writing --------------------------------------------------------
    def plan(self, request: str) -> dict[str, Any]:
        """The rule planner's Plan for a request, as JSON (its answer when it does not
        understand the request comes back as a tool error)."""
        model = self.model()
        result = plan_request(request, model.catalog, facts=RepoFacts.from_model(model))
        return plan_json(result)

    def implement(self, request: str, dry_run: bool = False) -> dict[str, Any]:
        """The whole pipeline for a request (rule planner, render, validate, write);
        returns the report. ``dry_run`` writes nothing and includes the diff."""
        from infrawright.change.workflow import run_request

        outcome = run_request(self.model(), request, dry_run=dry_run, crd_dirs=self.crd_dirs)
        return self._after_apply(outcome)

    def apply_plan(self, plan: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
        """Render a Plan you wrote (see `infrawright plan-schema`), validate it and write
        it unless ``dry_run``; returns the report."""
        from infrawright.change.implement import implement

        parsed = parse_plan(plan)
        model = self.model()
        store = SessionStore(model.root)

        def record(changes: Changeset) -> str:
            return store.record(
                changes,
                request=parsed.request,
                plan=plan_json(parsed),
                decisions=[],
                planner="tools",
            ).id

        with repo_lock(model.root):
            outcome = implement(
                model, parsed, dry_run=dry_run, crd_dirs=self.crd_dirs, record=record
            )
        return self._after_apply(outcome)

    def _after_apply(self, outcome: Outcome) -> dict[str, Any]:
        """Remember the outcome; staged writes were made against the old tree, so an
        applied change drops them (the report says which)."""
        self.last_outcome = outcome
        report = outcome.to_json()
        if outcome.status == "applied":
            self._refresh()
            if not self.pending.is_empty():
                report["discarded_pending"] = sorted(self.pending.files)
                self.pending = Changeset()
        return report

    def write_file(self, path: str, content: str) -> dict[str, Any]:
        """Stage a YAML file (whole content) in the pending change. Only component
        folders and the cluster file may be written; banned HelmRelease settings and
        files that do not parse are refused. Nothing reaches the repository before
        `finish`."""
        rel = self._relative(path)
        self._check_writable(rel)
        data = content.encode("utf-8")
        if len(data) > MAX_WRITE_BYTES:
            raise ToolError(f"{rel}: more than {MAX_WRITE_BYTES} bytes")
        parsed = parse_text(content, rel)
        if parsed.problem is not None:
            where = f"{rel}:{parsed.problem.line}" if parsed.problem.line else rel
            raise ToolError(f"{where}: {parsed.problem.message}")
        if rel == self.model().cluster_file:
            kept = {(d.name, d.namespace) for d in parsed.objects if d.kind == "Kustomization"}
            gone = sorted(
                ks.name
                for ks in self.model().kustomizations
                if ks.doc.file == rel and (ks.name, ks.doc.namespace) not in kept
            )
            if gone:
                raise ToolError(
                    f"{rel}: the new content drops Flux Kustomization(s) {', '.join(gone)}; "
                    'removals go through implement (e.g. "remove <component>"), which '
                    "checks what still needs them"
                )
        for doc in parsed.objects:
            banned = _banned(doc.data)
            if banned:
                raise ToolError(
                    f"{rel}: {doc.kind} {doc.name} sets {', '.join(banned)}; these are banned "
                    "(see explain_rule IW006): fix the cause instead"
                )
        self.pending.files[rel] = data
        return {"staged": rel, "pending": sorted(self.pending.files)}

    def finish(self, summary: str) -> dict[str, Any]:
        """Apply the pending change if it validates (adds no finding); returns the
        report. When it does not validate nothing is written and the change stays
        pending, so it can be fixed."""
        model = self.model()
        self.pending.reviews = _review_comments(self.pending)
        outcome = Outcome(summary, "no-op", None, self.pending)
        store = SessionStore(model.root)

        def record(changes: Changeset) -> str:
            plan = {"source": "write_file", "summary": summary}
            return store.record(
                changes, request=summary, plan=plan, decisions=[], planner="tools"
            ).id

        with repo_lock(model.root):
            outcome = settle(model, self.before(), outcome, crd_dirs=self.crd_dirs, record=record)
        self.last_outcome = outcome
        if outcome.status == "applied":
            self.pending = Changeset()
            self._refresh()
        return outcome.to_json()

    def discard(self) -> dict[str, Any]:
        """Drop the pending change; nothing is written."""
        dropped = sorted(self.pending.files)
        self.pending = Changeset()
        return {"discarded": dropped}

    # -- guards ----------------------------------------------------------------------
    def _kustomize_inputs(self) -> set[str]:
        """Files the repository's kustomization files name (repository-relative)."""
        model = self.model()
        out: set[str] = set()
        for rel in model.kustomization_files:
            folder = posixpath.dirname(rel)
            for doc in model.files[rel].documents:
                if isinstance(doc.data, dict):
                    out.update(
                        posixpath.normpath(posixpath.join(folder, name))
                        for name in kustomize_inputs(doc.data)
                    )
        return out

    def _relative(self, path: str) -> str:
        text = path.strip().replace("\\", "/")
        if not text or text.startswith("/") or "\x00" in text:
            raise ToolError(f"{path!r}: give a path relative to the repository root")
        rel = posixpath.normpath(text)
        if rel == "." or rel.startswith("../") or rel == "..":
            raise ToolError(f"{path!r}: outside the repository")
        safe_target(self.root, rel)  # symlinks out of the repository are refused too
        return rel

    def _check_writable(self, rel: str) -> None:
        model = self.model()
        if not rel.endswith((".yaml", ".yml")):
            raise ToolError(f"{rel}: only YAML files may be written")
        if rel == model.cluster_file:
            return
        comp_dir = model.config.components_dir.strip("/")
        parts = rel.split("/")
        base = comp_dir.split("/") if comp_dir else []
        if parts[: len(base)] != base or len(parts) < len(base) + 2:
            raise ToolError(
                f"{rel}: not writable; write inside {comp_dir}/<component>/ or {model.cluster_file}"
            )
        component = parts[len(base)]
        if not DNS_LABEL.match(component):
            raise ToolError(f"{rel}: component folder {component!r} is not a DNS-1123 label")
        if any(p.startswith(".") for p in parts):
            raise ToolError(f"{rel}: hidden files and folders are not writable")


def _review_comments(changes: Changeset) -> list[Review]:
    """The ``# REVIEW:`` comments in staged files, with their lines."""
    found: list[Review] = []
    for rel, data in sorted(changes.files.items()):
        if data is None:
            continue
        for number, line in enumerate(data.decode("utf-8").splitlines(), 1):
            mark = line.find("# REVIEW:")
            if mark >= 0:
                found.append(Review(rel, number, line[mark + len("# REVIEW:") :].strip()))
    return found


def _signature(root: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime, size) of every YAML file: cheap, and changes whenever one does."""
    out: list[tuple[str, int, int]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith((".yaml", ".yml", ".toml")):
                path = Path(dirpath) / name
                try:
                    st = path.stat()
                except OSError:
                    continue
                out.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(out)


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "bool": (bool,),
    "int": (int,),
    "dict[str, Any]": (dict,),
}


def _type_errors(method: Callable[..., Any], arguments: dict[str, Any]) -> list[str]:
    """Arguments whose JSON type does not match the tool's parameter type."""
    wrong: list[str] = []
    for name, param in inspect.signature(method).parameters.items():
        if name not in arguments:
            continue
        expected = _PY_TYPES.get(str(param.annotation))
        value = arguments[name]
        if expected is not None and not isinstance(value, expected):
            wrong.append(f"{name} must be {param.annotation!s}, got {type(value).__name__}")
    return wrong


def _banned(data: Any) -> list[str]:
    if not isinstance(data, dict):
        return []
    api = str(data.get("apiVersion", ""))
    kind = data.get("kind")
    spec = data.get("spec")
    if kind == "HelmRelease" and api.startswith(HELM_GROUP):
        return [setting for _path, setting in banned_in_spec(spec)]
    if kind == "Kustomization" and api.startswith(KUSTOMIZE_GROUP) and isinstance(spec, dict):
        return [
            setting
            for patch in spec.get("patches") or []
            if isinstance(patch, dict)
            for _path, setting in banned_in_patch(patch)
        ]
    return []


def tool_schema(method: Callable[..., Any]) -> dict[str, Any]:
    """A tool description: name, docstring, and JSON schema of its parameters."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    types = {"str": "string", "bool": "boolean", "int": "integer", "dict[str, Any]": "object"}
    for name, param in inspect.signature(method).parameters.items():
        annotation = param.annotation if isinstance(param.annotation, str) else "str"
        properties[name] = {"type": types.get(annotation, "string")}
        if param.default is inspect.Parameter.empty:
            required.append(name)
    doc = " ".join((method.__doc__ or "").split())
    return {
        "name": method.__name__,
        "description": doc,
        "parameters": {"type": "object", "properties": properties, "required": required},
    }


def kustomize_inputs(kustomization: dict[str, Any]) -> list[str]:
    """The names a kustomization file refers to, relative to its folder, but for secret
    generators' files: their content is a secret."""
    return [
        ref.name
        for ref in references(kustomization)
        if not (ref.kind == "generator" and ref.keys[0] == "secretGenerator")
    ]
