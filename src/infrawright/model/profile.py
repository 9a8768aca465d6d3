"""Which rules a repository is held to: the house's conventions, or what any Flux
repository must get right.

- ``house``: the seed's conventions (a flat ``namespaces/<component>/`` tree, every
  infrastructure Kustomization in one cluster file, ``<component>-monitoring``, Pod
  Security labels, Cilium policies for webhooks, no orphan files, an explicit
  kustomization.yaml in every Flux path), on top of ``flux``. Chosen where the repository
  has that shape, or where its config says ``profile = "house"``.
- ``flux``: what is wrong in any Flux repository (builds, CRD schemas, dependsOn targets
  and cycles, sourceRef targets, CRD consumers ordered after providers, banned HelmRelease
  workarounds). Single house rules can be switched on with ``house_rules``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from infrawright.repo.config import Config

ProfileName = Literal["house", "flux"]
PROFILES: tuple[ProfileName, ...] = ("house", "flux")


@dataclass(frozen=True)
class Profile:
    """The rule profile a repository is validated with, and why that one."""

    name: ProfileName
    reason: str
    #: House rules switched on one by one under the flux profile (config ``house_rules``).
    house_rules: frozenset[str] = frozenset()

    def runs(self, rule_id: str, house: bool) -> bool:
        """Whether a rule runs: every flux rule, house rules under house or when asked."""
        return not house or self.name == "house" or rule_id in self.house_rules

    def describe(self) -> str:
        extra = (
            f"; house rules on: {', '.join(sorted(self.house_rules))}" if self.house_rules else ""
        )
        return f"{self.name} ({self.reason}{extra})"


def detect_profile(
    config: Config, components: Collection[str], clusters: Collection[str]
) -> Profile:
    """The profile for a repository with these ``components`` (folders under the
    components folder) and ``clusters`` (folders under ``clusters/``)."""
    rules = frozenset(config.house_rules)
    where = config.source or "the config"
    if config.profile != "auto":
        name: ProfileName = "house" if config.profile == "house" else "flux"
        return Profile(name, f"profile = {config.profile!r} in {where}", rules)
    if not config.flat_layout:
        return Profile("flux", f"flat_layout = false in {where}", rules)
    comp_dir = config.components_dir.strip("/") or "."
    if components and clusters:
        return Profile(
            "house", f"{comp_dir}/<component>/ folders and clusters/, the seed's layout", rules
        )
    missing = f"no {comp_dir}/<component>/ folders" if not components else "no clusters/ folder"
    return Profile("flux", f"{missing}: not the seed's layout", rules)
