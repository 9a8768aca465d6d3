"""Changes to what already exists: versions, values, removal, monitoring, network policy
and ordering fixes. Existing files are edited in place (see :mod:`splice`): only the
touched node or document changes, everything else keeps its bytes.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from typing import Any

from infrawright.catalog import CatalogEntry
from infrawright.errors import InfrawrightError, RefusedError
from infrawright.model.conventions import pin_as, version_style
from infrawright.model.flux import KUSTOMIZE_GROUP, FluxKustomization, HelmRelease, dotted_get
from infrawright.plan.model import (
    AddHelmComponent,
    AddMonitoring,
    AddNetworkPolicy,
    AddPlainComponent,
    AlertChoice,
    FixOrdering,
    Plan,
    RemoveComponent,
    SetChartVersion,
    SetValues,
)
from infrawright.render.changeset import Review
from infrawright.render.emit import Style, dump
from infrawright.render.engine import (
    CILIUM_GROUP,
    MONITORING_GROUP,
    Rendered,
    Renderer,
    unknown_selector,
)
from infrawright.render.splice import (
    append_to_list,
    delete_document,
    find_document,
    remove_from_list,
    set_scalar,
    set_value,
)
from infrawright.repo.documents import Document
from infrawright.validate.context import helm_repository_urls

MONITOR_KINDS = frozenset(
    {"ServiceMonitor", "PodMonitor", "PrometheusRule", "Probe", "ScrapeConfig"}
)
SUFFIX = "-monitoring"


def _is(kind: str, name: str, namespace: str | None = None) -> Callable[[Any], bool]:
    def match(data: Any) -> bool:
        if not isinstance(data, dict) or data.get("kind") != kind:
            return False
        meta = data.get("metadata") or {}
        if not isinstance(meta, dict) or meta.get("name") != name:
            return False
        return namespace is None or meta.get("namespace") in (None, namespace)

    return match


class Editor:
    """Edits existing files through a :class:`Renderer`'s changeset."""

    def __init__(self, renderer: Renderer) -> None:
        self.r = renderer
        self.model = renderer.model
        self.changes = renderer.out.changes
        self.comp_dir = renderer.comp_dir
        self._tuned: list[AlertChoice] = []

    # -- plumbing --------------------------------------------------------------------
    def text(self, rel: str) -> str:
        if rel in self.changes.files:
            data = self.changes.files[rel]
            return data.decode("utf-8") if data is not None else ""
        return (self.model.root / rel).read_text(encoding="utf-8")

    def put(self, rel: str, text: str) -> None:
        self.changes.write(rel, text)

    def note(self, message: str) -> None:
        self.changes.messages.append(message)

    def noop(self, message: str) -> None:
        self.r.out.noop.append(message)

    def objects_of(self, component: str, kind: str) -> Iterator[Document]:
        prefix = f"{self.comp_dir}/{component}/"
        for rel, parsed in sorted(self.model.files.items()):
            if rel.startswith(prefix):
                yield from (d for d in parsed.objects if d.kind == kind)

    def kustomizations_of(self, component: str) -> list[FluxKustomization]:
        """Flux Kustomizations whose path is the component's folder (or inside it)."""
        folder = (self.model.root / self.comp_dir / component).resolve()
        out = []
        for ks in self.model.kustomizations:
            target = self.model.resolve(ks)
            if not isinstance(target, type(folder)):
                continue
            if target == folder or folder in target.parents:
                out.append(ks)
        return out

    def edit_doc(
        self, rel: str, match: Callable[[Any], bool], edit: Callable[[str, int], str]
    ) -> None:
        text = self.text(rel)
        index = find_document(text, match)
        if index is None:
            raise InfrawrightError(f"{rel}: the document to edit was not found")
        new = edit(text, index)
        if new != text:
            self.put(rel, new)

    def add_depends_on(self, ks: FluxKustomization, target: FluxKustomization, why: str) -> None:
        item: dict[str, Any] = {"name": target.name}
        if target.namespace != ks.namespace:
            item["namespace"] = target.namespace
        self.edit_doc(
            ks.doc.file,
            _is("Kustomization", ks.name, ks.namespace),
            lambda text, i: append_to_list(text, i, ("spec", "dependsOn"), item),
        )
        self.note(f"{self.model.label(ks)} now depends on {self.model.label(target)} ({why})")

    def list_in_kustomization(self, folder: str, entry: str) -> None:
        """Add ``entry`` to ``folder/kustomization.yaml`` resources unless it is there."""
        rel = f"{folder}/kustomization.yaml"
        text = self.text(rel)
        index = find_document(text, lambda d: isinstance(d, dict))
        if index is None:
            raise InfrawrightError(f"{rel}: empty kustomization")
        listed = (self._plain_doc(text, index) or {}).get("resources") or []
        if entry in listed or f"./{entry}" in listed:
            return
        self.put(rel, append_to_list(text, index, ("resources",), entry))

    def unlist_in_kustomization(self, folder: str, entry: str) -> None:
        rel = f"{folder}/kustomization.yaml"
        if not (self.model.root / rel).is_file() and rel not in self.changes.files:
            return
        text = self.text(rel)
        index = find_document(text, lambda d: isinstance(d, dict))
        if index is None:
            return
        wanted = {entry, f"./{entry}"}
        new = remove_from_list(text, index, ("resources",), lambda item: item in wanted)
        if new != text:
            self.put(rel, new)

    @staticmethod
    def _plain_doc(text: str, index: int) -> dict[str, Any] | None:
        import yaml

        docs = [d for d in yaml.safe_load_all(text) if d is not None]
        data = docs[index] if index < len(docs) else None
        return data if isinstance(data, dict) else None

    def release_of(self, component: str) -> tuple[HelmRelease, CatalogEntry | None]:
        releases = [HelmRelease.parse_doc(d) for d in self.objects_of(component, "HelmRelease")]
        if not releases:
            raise InfrawrightError(
                f"{component} has no HelmRelease under {self.comp_dir}/{component}/",
                hint="versions and values can only be changed on Helm components",
            )
        release = releases[0]
        urls = helm_repository_urls(self.model)
        url = urls.get(release.source.name) if release.source else None
        return release, self.model.catalog.for_chart(release.chart, url)

    # -- family 6: versions, values, removal -----------------------------------------
    def set_version(self, op: SetChartVersion) -> None:
        release, _entry = self.release_of(op.component)
        current = release.version
        if current is None:
            raise InfrawrightError(
                f"{release.doc.file}: HelmRelease {release.name} has no spec.chart.spec.version "
                "(an OCIRepository chartRef keeps it in the OCIRepository's spec.ref)",
                hint="change the tag in the OCIRepository",
            )
        if op.exact:
            wanted = ("v" if current.startswith("v") else "") + op.version.lstrip("v")
        else:
            wanted = _pin_like(current, op.version)
        if wanted == current:
            what = "pinned to" if op.exact else f"at {current}, which admits"
            self.noop(f"{release.name} is already {what} {op.version}")
            return
        self.edit_doc(
            release.doc.file,
            _is("HelmRelease", release.name),
            lambda text, i: set_scalar(text, i, ("spec", "chart", "spec", "version"), wanted),
        )
        self.note(f"{release.name}: chart version {current} -> {wanted}")
        for note in op.review:
            self.changes.reviews.append(Review(release.doc.file, None, note))

    def set_values(self, op: SetValues) -> None:
        release, _entry = self.release_of(op.component)
        for dotted, value in sorted(op.values.items()):
            current = dotted_get(release.values, dotted)
            if current == value:
                self.noop(f"{release.name}: {dotted} is already {value!r}")
                continue
            keys = ("spec", "values", *dotted.split("."))
            comment = None
            if current is None:
                comment = f"REVIEW: {dotted} was not set before; check the chart's values"
                self.changes.reviews.append(Review(release.doc.file, None, comment[8:]))
            self.edit_doc(
                release.doc.file,
                _is("HelmRelease", release.name),
                _setting(keys, value, comment),
            )
            self.note(f"{release.name}: {dotted}: {current!r} -> {value!r}")

    def remove(self, op: RemoveComponent) -> None:
        names = [op.component, f"{op.component}{SUFFIX}"]
        doomed = {ks.key: ks for n in names for ks in self.kustomizations_of(n)}
        for ks in self.model.kustomizations:
            if ks.name in names and self.model.is_local(ks):
                doomed.setdefault(ks.key, ks)
        folders = [
            f"{self.comp_dir}/{n}" for n in names if (self.model.root / self.comp_dir / n).is_dir()
        ]
        if not doomed and not folders:
            self.noop(f"component {op.component} is already gone")
            return
        labels = {self.model.label(ks) for ks in doomed.values()}
        still_used = sorted(
            f"{use.consumer} uses {use.kind} ({use.group}) from {use.obj.file}"
            for consumer, uses in self.r.analysis.index.uses.items()
            if consumer not in labels
            for use in uses
            if set(use.providers) <= labels
        )
        if still_used:
            raise RefusedError(
                f"{op.component} cannot be removed: other components still use CRDs it "
                f"provides: {'; '.join(still_used)}",
                hint="remove or move those objects first, then remove the component",
            )
        for folder in folders:
            for path in sorted((self.model.root / folder).rglob("*")):
                if path.is_file() or path.is_symlink():
                    self.changes.files[self.model.rel(path)] = None
        by_file: dict[str, list[FluxKustomization]] = {}
        for ks in doomed.values():
            by_file.setdefault(ks.doc.file, []).append(ks)
        for rel, items in sorted(by_file.items()):
            if rel in self.changes.files and self.changes.files[rel] is None:
                continue
            for ks in items:
                self.edit_doc(rel, _is("Kustomization", ks.name, ks.namespace), delete_document)
                if ks.doc.spec.get("prune") is False:
                    note = (
                        f"{ks.name} had prune: false: its objects stay in the cluster until "
                        "deleted by hand"
                    )
                    self.changes.reviews.append(Review(rel, None, note))
                self.note(f"Flux Kustomization {self.model.label(ks)} removed from {rel}")
        doomed_keys = {(ks.namespace, ks.name) for ks in doomed.values()}
        for other in self.model.kustomizations:
            if other.key in doomed:
                continue
            hits = [d for d in other.depends_on if (d.namespace, d.name) in doomed_keys]
            if not hits:
                continue

            def gone(item: Any, ns: str = other.namespace) -> bool:
                return (
                    isinstance(item, dict)
                    and (
                        str(item.get("namespace", ns)),
                        str(item.get("name")),
                    )
                    in doomed_keys
                )

            self.edit_doc(
                other.doc.file,
                _is("Kustomization", other.name, other.namespace),
                _removing(("spec", "dependsOn"), gone),
            )
            self.note(
                f"{self.model.label(other)} no longer depends on "
                f"{', '.join(sorted(d.name for d in hits))}"
            )

    # -- family 5: monitoring for an existing component ------------------------------
    def add_monitoring(self, op: AddMonitoring, *, switch_off: bool = True) -> None:
        if op.component not in self.model.components and op.component not in self.model.by_label:
            raise InfrawrightError(f"component {op.component} does not exist")
        if not self.r.providers(MONITORING_GROUP):
            raise InfrawrightError(
                "no monitoring stack (prometheus-operator CRDs) is installed in this repository",
                hint='install one first, e.g. "install kube-prometheus-stack"',
            )
        releases = list(self.objects_of(op.component, "HelmRelease"))
        entry = self.release_of(op.component)[1] if releases else None
        namespace = self._namespace_of(op.component)
        rules = self._rules(op, entry)
        name = f"{op.component}{SUFFIX}"
        folder = f"{self.comp_dir}/{name}"
        want_sm = op.service_monitor and entry is not None and entry.metrics is not None
        if want_sm and entry is not None and entry.metrics is not None:
            why = None
            if entry.metrics.chart_monitors == "keep":
                why = f"{op.component} monitors itself as its chart intends"
            elif not entry.metrics.selector:
                why = unknown_selector(entry)
            if why is not None and not rules:
                self.noop(why)
                return
            if why is not None:
                self.note(why)
                want_sm = False
        if op.service_monitor and not want_sm and not rules:
            raise InfrawrightError(
                f"{op.component}: its metrics endpoint is not known (no catalog entry with "
                "metrics for its chart)",
                hint="add a catalog entry with metrics in .infrawright.toml",
            )
        if entry is not None and want_sm and switch_off:
            self._switch_off_chart_monitor(op.component, entry)
        if not (self.model.root / folder).is_dir():
            self.r.monitoring_component(
                op.component, namespace, entry, service_monitor=want_sm, rules=rules
            )
            return
        existing = {d.name: d for d in self.model.objects() if d.file.startswith(folder + "/")}
        has_sm = any(d.kind in ("ServiceMonitor", "PodMonitor") for d in existing.values())
        if want_sm and not has_sm and entry is not None:
            sm_file = self.r.write_monitor(folder, op.component, namespace, entry)
            self.list_in_kustomization(folder, sm_file)
        elif want_sm:
            self.noop(f"{folder} already has a ServiceMonitor or PodMonitor")
        if rules:
            self._add_rules(folder, op.component, namespace, rules)

    def _namespace_of(self, component: str) -> str:
        for kind in ("Namespace",):
            for doc in self.objects_of(component, kind):
                return doc.name
        for doc in self.objects_of(component, "HelmRelease"):
            return doc.namespace or component
        return component

    def _rules(self, op: AddMonitoring, entry: CatalogEntry | None) -> list[dict[str, Any]]:
        self._tuned = [c for c in op.alerts if c.params]
        if not op.alerts:
            return []
        known = {a.name: a for a in (entry.metrics.alerts if entry and entry.metrics else ())}
        rules: list[dict[str, Any]] = []
        for choice in op.alerts:
            alert = known.get(choice.name)
            if alert is None:
                raise InfrawrightError(f"{op.component}: the catalog has no alert {choice.name}")
            expr, summary = alert.rendered(choice.params)
            rules.append(
                {
                    "alert": alert.name,
                    "expr": expr,
                    "for": alert.for_,
                    "labels": {"severity": alert.severity},
                    "annotations": {"summary": summary},
                }
            )
        return rules

    def _add_rules(
        self, folder: str, component: str, namespace: str, rules: list[dict[str, Any]]
    ) -> None:
        files = [d for d in self.model.objects() if d.file.startswith(folder + "/")]
        current = [d for d in files if d.kind == "PrometheusRule"]
        present = {
            str(r.get("alert"))
            for d in current
            for g in d.spec.get("groups") or []
            if isinstance(g, dict)
            for r in g.get("rules") or []
            if isinstance(r, dict)
        }
        fresh = [r for r in rules if r["alert"] not in present]
        tuned = {str(c.name) for c in self._tuned}
        for r in rules:
            if r["alert"] not in present:
                continue
            if r["alert"] in tuned and self._retune(current, r):
                continue
            self.noop(f"alert {r['alert']} already exists in {folder}")
        if not fresh:
            return
        if current:
            target = current[0]
            for rule in fresh:
                self.edit_doc(
                    target.file,
                    _is("PrometheusRule", target.name),
                    _appending(("spec", "groups", 0, "rules"), rule),
                )
            self.note(f"{len(fresh)} alert(s) added to {target.file}")
            return
        rule_file = self.r._file("PrometheusRule", "prometheus-rules.yaml")
        self.r._write(f"{folder}/{rule_file}", self.r.prometheus_rule(component, namespace, fresh))
        self.list_in_kustomization(folder, rule_file)

    def _retune(self, current: list[Document], rule: dict[str, Any]) -> bool:
        """Rewrite an existing alert's expr and summary for new parameters ("within 7
        days"); False when it already says that."""
        for doc in current:
            for g, group in enumerate(doc.spec.get("groups") or []):
                rules = group.get("rules") if isinstance(group, dict) else None
                for i, existing in enumerate(rules or []):
                    if not isinstance(existing, dict) or existing.get("alert") != rule["alert"]:
                        continue
                    if existing.get("expr") == rule["expr"]:
                        return False
                    base: tuple[str | int, ...] = ("spec", "groups", g, "rules", i)
                    note = (
                        f"REVIEW: {rule['alert']} rewritten for the requested threshold; "
                        f"was: {existing.get('expr')}"
                    )
                    self.edit_doc(
                        doc.file,
                        _is("PrometheusRule", doc.name),
                        _setting((*base, "expr"), rule["expr"], note),
                    )
                    self.edit_doc(
                        doc.file,
                        _is("PrometheusRule", doc.name),
                        _setting(
                            (*base, "annotations", "summary"), rule["annotations"]["summary"], None
                        ),
                    )
                    self.changes.reviews.append(Review(doc.file, None, note[8:]))
                    self.note(f"{rule['alert']} in {doc.file} now fires at the requested threshold")
                    return True
        return False

    def _switch_off_chart_monitor(self, component: str, entry: CatalogEntry) -> None:
        release, _ = self.release_of(component)
        assert entry.metrics is not None
        if entry.metrics.chart_monitors == "keep":
            return
        for dotted in entry.metrics.servicemonitor_values:
            if dotted_get(release.values, dotted) is True:
                self.set_values(SetValues(component=component, values={dotted: False}))
        for dotted, value in entry.metrics.service_values.items():
            if dotted_get(release.values, dotted) != value:
                self.set_values(SetValues(component=component, values={dotted: value}))

    # -- family 2: network policy ----------------------------------------------------
    def add_policy(self, op: AddNetworkPolicy) -> None:
        exists = op.component in self.model.components or op.component in self.model.by_label
        if not exists:
            self.r.plain_component(
                AddPlainComponent(component=op.component, namespace=op.namespace)
            )
        folder = f"{self.comp_dir}/{op.component}"
        for doc in self.model.objects():
            if (
                doc.kind == "CiliumNetworkPolicy"
                and doc.name == op.name
                and doc.file.startswith(folder + "/")
            ):
                self.noop(f"CiliumNetworkPolicy {op.name} already exists in {doc.file}")
                return
        policy = _policy(op)
        notes = list(op.review)
        notes.append(
            "a policy that selects a pod makes its ingress default-deny: everything else "
            "that must reach these pods needs an allow rule too"
        )
        layout = self.r.conv.network_policy_layout.value
        if layout == "folder":
            sub = f"{folder}/cilium-network-policies"
            path = f"{sub}/{op.name}.yaml"
            self.r._write(path, policy, header=self.r._review_header(path, notes))
            if (self.model.root / sub / "kustomization.yaml").is_file():
                self.list_in_kustomization(sub, f"{op.name}.yaml")
            else:
                self.r.kustomization_file(f"{sub}/kustomization.yaml", [f"{op.name}.yaml"])
            entry = "cilium-network-policies"
        else:
            entry = (
                f"cilium-network-policy-{op.name}.yaml"
                if op.name != "default"
                else ("cilium-network-policy.yaml")
            )
            path = f"{folder}/{entry}"
            self.r._write(path, policy, header=self.r._review_header(path, notes))
        if exists:
            self.list_in_kustomization(folder, entry)
        else:
            kfile = f"{folder}/kustomization.yaml"
            self.put(kfile, append_to_list(self.text(kfile), 0, ("resources",), entry))
        cni = self.r.cni()
        if cni is None:
            self.note("no Kustomization installs Cilium here; the policy needs its CRDs")
            return
        if not exists:
            return  # the new Kustomization already depends on the CNI
        ks_list = self.kustomizations_of(op.component)
        cni_ks = self.model.by_label.get(cni)
        for ks in ks_list:
            if cni_ks is not None and cni not in {self.model.label_of(d) for d in ks.depends_on}:
                self.add_depends_on(ks, cni_ks, "CiliumNetworkPolicy CRD")

    # -- family 3: ordering fixes ----------------------------------------------------
    def fix_ordering(self, op: FixOrdering) -> None:
        before = len(self.changes.messages)
        self._fix_crd_dependencies(op.component)
        self._fix_monitoring_split(op.component)
        self._fix_chart_monitors(op.component)
        if len(self.changes.messages) == before:
            scope = op.component or "the repository"
            self.noop(f"no ordering problem (IW003/IW004/IW005) found in {scope}")

    def _in_scope(self, scope: str | None, *labels: str) -> bool:
        if scope is None:
            return True
        return any(x in (scope, f"{scope}{SUFFIX}") for x in labels)

    def _fix_crd_dependencies(self, scope: str | None) -> None:
        index = self.r.analysis.index
        for consumer, uses in sorted(index.uses.items()):
            ks = self.model.by_label.get(consumer)
            if ks is None:
                continue
            direct = {self.model.label_of(d) for d in ks.depends_on}
            children = self._children(consumer)
            added: set[str] = set()
            for use in uses:
                if direct & set(use.providers) or added & set(use.providers):
                    continue
                candidates = [p for p in use.providers if p not in children and p != consumer]
                if not candidates:
                    self.note(
                        f"{consumer} applies {use.kind} from {use.obj.file} as well as its "
                        "provider; move that file into its own Kustomization (not done "
                        "automatically)"
                    )
                    continue
                provider = candidates[0]
                if not self._in_scope(scope, consumer, provider):
                    continue
                target = self.model.by_label[provider]
                self.add_depends_on(ks, target, f"{use.kind} ({use.group}) CRD")
                added.add(provider)

    def _children(self, label: str) -> set[str]:
        build = self.r.analysis.builds.get(label)
        if build is None:
            return set()
        return {
            self.model.labels[key]
            for obj in build.objects
            if obj.kind == "Kustomization" and obj.group == KUSTOMIZE_GROUP
            for key in [(obj.namespace or build.kustomization.namespace, obj.name)]
            if key in self.model.labels
        }

    def _fix_monitoring_split(self, scope: str | None) -> None:
        stacks = self.r.providers(MONITORING_GROUP)
        for label, build in sorted(self.r.analysis.builds.items()):
            ks = build.kustomization
            monitors = [
                o for o in build.objects if o.group == MONITORING_GROUP and o.kind in MONITOR_KINDS
            ]
            if not monitors or not self._in_scope(scope, label):
                continue
            if ks.name.endswith(SUFFIX):
                self._monitoring_deps(ks, stacks)
                continue
            if label in stacks:
                continue  # the stack's own rules and monitors stay with it
            self._move_monitors(ks, monitors)

    def _monitoring_deps(self, ks: FluxKustomization, stacks: list[str]) -> None:
        deps = {self.model.label_of(d) for d in ks.depends_on}
        parent = self.model.by_label.get(ks.name[: -len(SUFFIX)])
        if stacks and not deps & set(stacks):
            self.add_depends_on(ks, self.model.by_label[stacks[0]], "monitoring stack CRDs")
        if parent is not None and self.model.label(parent) not in deps:
            self.add_depends_on(ks, parent, "namespace and endpoints it watches")

    def _move_monitors(self, ks: FluxKustomization, monitors: list[Document]) -> None:
        component = ks.name
        target = f"{self.comp_dir}/{component}{SUFFIX}"
        by_file: dict[str, list[Document]] = {}
        for obj in monitors:
            if obj.file:
                by_file.setdefault(obj.file, []).append(obj)
        moved: list[str] = []
        for rel, objs in sorted(by_file.items()):
            text = self.text(rel)
            source = self.model.files[rel]
            name = posixpath.basename(rel)
            if len(objs) >= len(source.objects):
                self.changes.files[rel] = None
                self.unlist_in_kustomization(posixpath.dirname(rel), name)
                self.put(f"{target}/{name}", text)
            else:
                kept = text
                pieces: list[str] = []
                for obj in objs:
                    src = next((d for d in source.objects if d.line == obj.line), None)
                    if src is None:
                        continue
                    pieces.append(
                        dump(src.data, Style(indent_sequences=self.r.style.indent_sequences))
                    )
                    index = find_document(kept, _is(src.kind, src.name))
                    if index is not None:
                        kept = delete_document(kept, index)
                self.put(rel, kept)
                self.put(f"{target}/{name}", "---\n".join(pieces))
            moved.append(name)
            self.note(
                f"moved {', '.join(o.kind + '/' + o.name for o in objs)} from {rel} to {target}/"
            )
        if not moved:
            return
        if (self.model.root / target).is_dir():
            for name in moved:
                self.list_in_kustomization(target, name)
            return
        self.r.kustomization_file(f"{target}/kustomization.yaml", sorted(moved))
        stacks = self.r.providers(MONITORING_GROUP)
        deps = [(stacks[0], "ServiceMonitor CRD")] if stacks else []
        deps.append((component, "namespace and endpoints"))
        cni = self.r.cni()
        if cni and self.r.conv.depend_on_cni.value and cni not in {d for d, _ in deps}:
            deps.append((cni, "after the CNI, as every component here"))
        self.r.flux_kustomization(
            f"{component}{SUFFIX}",
            deps,
            ("monitoring objects moved out of " + component,),
            monitoring=True,
        )

    def _replace_chart_monitor(self, component: str) -> None:
        """Write the ServiceMonitor the chart no longer makes, unless one exists."""
        folder = f"{self.comp_dir}/{component}{SUFFIX}/"
        if (
            any(
                d.kind in ("ServiceMonitor", "PodMonitor") and d.file.startswith(folder)
                for d in self.model.objects()
            )
            or f"{folder}kustomization.yaml" in self.changes.files
        ):
            return
        try:
            self.add_monitoring(AddMonitoring(component=component), switch_off=False)
        except InfrawrightError as exc:
            self.note(f"{component}: no ServiceMonitor written ({exc.message})")

    def _fix_chart_monitors(self, scope: str | None) -> None:
        urls = helm_repository_urls(self.model)
        for label, build in sorted(self.r.analysis.builds.items()):
            if not self._in_scope(scope, label):
                continue
            for obj in build.objects:
                if obj.kind != "HelmRelease":
                    continue
                source = next(
                    (
                        d
                        for d in self.model.files.get(obj.file, _EMPTY).objects
                        if d.line == obj.line
                    ),
                    None,
                )
                if source is None:
                    continue
                release = HelmRelease.parse_doc(source)
                url = urls.get(release.source.name) if release.source else None
                entry = self.model.catalog.for_chart(release.chart, url)
                kept = (
                    entry is not None
                    and entry.metrics is not None
                    and (entry.metrics.chart_monitors == "keep")
                )
                paths = entry.metrics.servicemonitor_values if entry and entry.metrics else ()
                for dotted in () if kept else paths:
                    if dotted_get(release.values, dotted) is not True:
                        continue
                    keys = ("spec", "values", *dotted.split("."))
                    self.edit_doc(
                        source.file,
                        _is("HelmRelease", release.name),
                        _setting(keys, False, None),
                    )
                    self.note(
                        f"{release.name}: {dotted} switched off; its ServiceMonitor belongs in "
                        f"{label}{SUFFIX}"
                    )
                    self._replace_chart_monitor(label)


Edit = Callable[[str, int], str]


def _setting(keys: tuple[str | int, ...], value: Any, comment: str | None) -> Edit:
    return lambda text, i: set_value(text, i, keys, value, comment=comment)


def _removing(keys: tuple[str | int, ...], match: Callable[[Any], bool]) -> Edit:
    return lambda text, i: remove_from_list(text, i, keys, match)


def _appending(keys: tuple[str | int, ...], item: Any) -> Edit:
    return lambda text, i: append_to_list(text, i, keys, item)


class _Empty:
    objects: tuple[Document, ...] = ()


_EMPTY = _Empty()


def _pin_like(current: str, version: str) -> str:
    """``version`` written the way ``current`` is pinned (exact, ``1.x`` or ``1.2.x``)."""
    prefix = "v" if current.startswith("v") else ""
    return pin_as(prefix + version.lstrip("v"), version_style(current))


def _policy(op: AddNetworkPolicy) -> dict[str, Any]:
    ingress: list[dict[str, Any]] = []
    ports = [{"port": str(p), "protocol": "TCP"} for p in op.ports]
    for ns in op.allow_from_namespaces:
        rule: dict[str, Any] = {
            "fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": ns}}]
        }
        if ports:
            rule["toPorts"] = [{"ports": ports}]
        ingress.append(rule)
    if op.allow_from_entities:
        rule = {"fromEntities": list(op.allow_from_entities)}
        if ports:
            rule["toPorts"] = [{"ports": ports}]
        ingress.append(rule)
    spec: dict[str, Any] = {"endpointSelector": {}, "ingress": ingress}
    if op.name == "default":
        spec["egress"] = [
            {"toEndpoints": [{}]},
            {
                "toEndpoints": [
                    {
                        "matchLabels": {
                            "k8s:io.kubernetes.pod.namespace": "kube-system",
                            "k8s:k8s-app": "kube-dns",
                        }
                    }
                ],
                "toPorts": [
                    {
                        "ports": [
                            {"port": "53", "protocol": "UDP"},
                            {"port": "53", "protocol": "TCP"},
                        ]
                    }
                ],
            },
            {"toEntities": ["kube-apiserver"]},
        ]
    return {
        "apiVersion": f"{CILIUM_GROUP}/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": op.name, "namespace": op.namespace},
        "spec": spec,
    }


def render_plan(renderer: Renderer, plan: Plan) -> Rendered:
    """Render every operation of a plan: new components by the Renderer, changes to
    existing ones by the Editor."""
    editor = Editor(renderer)
    for op in plan.ops:
        if isinstance(op, AddHelmComponent | AddPlainComponent):
            renderer.render_op(op)
        elif isinstance(op, SetChartVersion):
            editor.set_version(op)
        elif isinstance(op, SetValues):
            editor.set_values(op)
        elif isinstance(op, RemoveComponent):
            editor.remove(op)
        elif isinstance(op, AddMonitoring):
            editor.add_monitoring(op)
        elif isinstance(op, AddNetworkPolicy):
            editor.add_policy(op)
        elif isinstance(op, FixOrdering):
            editor.fix_ordering(op)
    renderer.out.changes.locate_reviews()
    return renderer.out
