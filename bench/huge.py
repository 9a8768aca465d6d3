"""``infrawright validate`` on a repository with one huge component (issue 17, point 4).

    .venv/bin/python bench/huge.py [--documents 20000] [--files 100] [--runs 3]

The repository is the example's layout as ``bench/gen_repo.py`` writes it with no
synthetic components (cilium, cert-manager, monitoring, ... copied from the example) plus
``namespaces/huge/``: a Namespace with Pod Security labels and ``--documents`` ConfigMaps
spread over ``--files`` files, listed by a ``kustomization.yaml`` with ``namespace: huge``
and ``commonLabels``, and its Flux Kustomization (depends on cilium) in the cluster file.
It is committed, like gen_repo's.

Each run times, as a subprocess (``infrawright validate --repo REPO``, process start
included, peak RSS from ``os.wait4``):

- **cold**: a new, empty cache directory;
- **warm, nothing changed**: a cache filled by one untimed validate of the same copy;
- **warm, one ConfigMap changed**: that cache, after one ConfigMap's value was edited (a
  different one every run), so one piece is built again.

Validate must exit 0, or the benchmark stops. ``--whole`` also times one cold run with
the pieces switched off (``INFRAWRIGHT_SPLIT=off`` is not a feature: the script runs
validate in-process with ``SPLIT_MIN_DOCS`` raised, and a build time limit of
``--whole-timeout`` seconds), to show what the pieces save; expect it to time out.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchlib import (
    CACHE_ENV,
    Stats,
    byte_compile,
    code_note,
    console_script,
    fresh_copy,
    machine_note,
    megabytes,
    own_cache,
    run_measured,
    say,
    table,
    use_cache,
    warm_cache,
)
from gen_repo import CLUSTER, COMPONENTS_DIR, generate, git_commit

from infrawright.build.kustomize import find_kustomize

NAME = "huge"
GOAL_S = 60.0  # cold validate of 20,000 documents, under

FLUX_KS = f"""---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {NAME}
  namespace: flux-system
spec:
  dependsOn:
    - name: cilium
  interval: 10m
  path: ./{COMPONENTS_DIR}/{NAME}
  prune: false
  sourceRef:
    kind: GitRepository
    name: flux-system
  wait: true
  timeout: 10m
"""
NAMESPACE = f"""apiVersion: v1
kind: Namespace
metadata:
  name: {NAME}
  labels:
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/audit: restricted
    pod-security.kubernetes.io/warn: restricted
"""


def config_map(n: int) -> str:
    return (
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: setting-{n:05d}\n"
        f"data:\n  value: 'value {n}'\n"
    )


def huge_repo(parent: Path, documents: int, files: int) -> Path:
    """The example's layout plus one component of ``documents`` ConfigMaps, committed."""
    repo = parent / f"huge-{documents}"
    generate(repo, 0, git=False)
    folder = repo / COMPONENTS_DIR / NAME
    folder.mkdir(parents=True)
    (folder / "namespace.yaml").write_text(NAMESPACE)
    names = [f"settings-{f:03d}.yaml" for f in range(files)]
    per_file = -(-documents // files)
    for f, name in enumerate(names):
        start, stop = f * per_file, min(documents, (f + 1) * per_file)
        (folder / name).write_text("".join(config_map(n) for n in range(start, stop)))
    listed = "".join(f"  - {name}\n" for name in ["namespace.yaml", *names])
    (folder / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"namespace: {NAME}\ncommonLabels:\n  app.kubernetes.io/part-of: {NAME}\n"
        f"resources:\n{listed}"
    )
    cluster = repo / "clusters" / CLUSTER / "infrastructure.yaml"
    cluster.write_text(cluster.read_text() + FLUX_KS)
    git_commit(repo, f"One component of {documents} ConfigMaps")
    return repo


def change_one(repo: Path, run: int, documents: int, files: int) -> str:
    """Edit the value of one ConfigMap (another one every run)."""
    n = (run * 7919 + 123) % documents
    per_file = -(-documents // files)
    path = repo / COMPONENTS_DIR / NAME / f"settings-{n // per_file:03d}.yaml"
    text = path.read_text()
    old = f"  value: 'value {n}'\n"
    assert old in text, f"{path}: no {old!r}"
    path.write_text(text.replace(old, f"  value: 'changed in run {run}'\n"))
    return f"setting-{n:05d}"


def validate_argv(repo: Path) -> list[str]:
    return [console_script("infrawright"), "validate", "--repo", str(repo)]


def one_run(
    run: int, base: Path, scratch: Path, opts: argparse.Namespace, rows: dict[str, list[float]]
) -> dict[str, int]:
    memory: dict[str, int] = {}
    cache_dir = use_cache(scratch, None)
    try:
        child = run_measured(validate_argv(base), env=dict(os.environ))
    finally:
        shutil.rmtree(cache_dir)
    rows["cold"].append(child.seconds)
    memory["cold"] = child.max_rss_bytes
    copy = fresh_copy(base, scratch)
    filled = warm_cache(copy, scratch, [])
    try:
        for state, edit in (
            ("warm, nothing changed", False),
            ("warm, one ConfigMap changed", True),
        ):
            if edit:
                say(f"run {run + 1}: changed {change_one(copy, run, opts.documents, opts.files)}")
            cache_dir = use_cache(scratch, filled)
            try:
                child = run_measured(validate_argv(copy), env=dict(os.environ))
            finally:
                shutil.rmtree(cache_dir)
            rows[state].append(child.seconds)
            memory[state] = child.max_rss_bytes
    finally:
        shutil.rmtree(copy.parent)
        shutil.rmtree(filled)
    say("run {}: {}".format(run + 1, ", ".join(f"{k} {v[-1]:.1f} s" for k, v in rows.items())))
    return memory


def whole_run(repo: Path, scratch: Path, timeout: float) -> str:
    """One cold validate in-process with the pieces switched off and a build time limit."""

    from infrawright.build import split
    from infrawright.model.loader import load_repo
    from infrawright.validate.engine import validate

    cache_dir = use_cache(scratch, None)
    saved = split.SPLIT_MIN_DOCS
    split.SPLIT_MIN_DOCS = 10**9
    try:
        start = time.perf_counter()
        tool = find_kustomize().with_timeout(timeout)
        result = validate(load_repo(repo), tool=tool)
        seconds = time.perf_counter() - start
    finally:
        split.SPLIT_MIN_DOCS = saved
        shutil.rmtree(cache_dir)
    timed_out = [f for f in result.errors if "timed out" in f.message]
    what = "timed out" if timed_out else f"{len(result.errors)} error finding(s)"
    return f"{seconds:.1f} s ({what}, build time limit {timeout:.0f} s)"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time validate on one huge component.")
    parser.add_argument("--documents", type=int, default=20000, help="ConfigMaps (default 20000)")
    parser.add_argument("--files", type=int, default=100, help="files they are in (default 100)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each state (default 3)")
    parser.add_argument("--whole", action="store_true", help="also one cold run built whole")
    parser.add_argument("--whole-timeout", type=float, default=120.0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    start_load = os.getloadavg()[0]
    own_cache()
    byte_compile()
    find_kustomize()
    rows: dict[str, list[float]] = {
        "cold": [],
        "warm, nothing changed": [],
        "warm, one ConfigMap changed": [],
    }
    memory: dict[str, list[int]] = {state: [] for state in rows}
    whole = None
    with tempfile.TemporaryDirectory(prefix="infrawright-bench-") as tmp:
        scratch = Path(tmp)
        say(f"writing {opts.documents} ConfigMaps in {opts.files} files")
        repo = huge_repo(Path(tempfile.mkdtemp(dir=tmp)), opts.documents, opts.files)
        for run in range(opts.runs):
            for state, rss in one_run(run, repo, scratch, opts, rows).items():
                memory[state].append(rss)
        if opts.whole:
            say("one cold run built whole")
            whole = whole_run(repo, scratch, opts.whole_timeout)
        os.environ.pop(CACHE_ENV, None)
    body = [
        [state, Stats(tuple(times)).cell(), megabytes(memory[state])]
        for state, times in rows.items()
    ]
    cold = Stats(tuple(rows["cold"]))
    print(
        f"infrawright validate of a repository with one component of {opts.documents} "
        f"ConfigMaps in {opts.files} files (namespace + commonLabels), subprocess wall "
        "time, median (min–max) over runs"
    )
    print(table(["state", "wall time", "peak RSS"], body))
    if whole is not None:
        print(f"cold, built whole (pieces off, in-process): {whole}")
    met = cold.times and cold.median < GOAL_S
    print(f"goal: cold under {GOAL_S:.0f} s: {'met' if met else 'NOT met'} ({cold.short()})")
    print(machine_note(start_load))
    print(code_note())
    return 0


if __name__ == "__main__":
    sys.exit(main())
