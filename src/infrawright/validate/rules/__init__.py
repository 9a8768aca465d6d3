"""The pattern rules, one module each, registered here in ID order."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

from infrawright.validate.context import Context
from infrawright.validate.finding import Finding, Rule
from infrawright.validate.rules import (
    iw000_parse_and_build,
    iw001_flat_layout,
    iw002_cluster_file,
    iw003_crd_dependencies,
    iw004_monitoring_split,
    iw005_chart_servicemonitor,
    iw006_banned_workarounds,
    iw007_namespace_pss,
    iw008_webhook_network_policy,
    iw009_dependencies,
    iw010_paths,
    iw011_sources,
    iw012_plaintext_secrets,
    iw013_schema,
    iw014_cel_rules,
    iw015_patch_targets,
)

MODULES: tuple[ModuleType, ...] = (
    iw000_parse_and_build,
    iw001_flat_layout,
    iw002_cluster_file,
    iw003_crd_dependencies,
    iw004_monitoring_split,
    iw005_chart_servicemonitor,
    iw006_banned_workarounds,
    iw007_namespace_pss,
    iw008_webhook_network_policy,
    iw009_dependencies,
    iw010_paths,
    iw011_sources,
    iw012_plaintext_secrets,
    iw013_schema,
    iw014_cel_rules,
    iw015_patch_targets,
)

Check = Callable[[Context], Iterator[Finding]]
RULES: dict[str, tuple[Rule, Check, str]] = {
    m.RULE.id: (m.RULE, m.check, (m.__doc__ or "").strip()) for m in MODULES
}
