"""Time the layout model and an exemplar on a generated repository (not a test).

    .venv/bin/python bench/layout.py [--components 1000] [--runs 5]

Generates the repository with bench/gen_repo.py into a temporary folder, loads it once,
then prints, side by side, the load time and the time of ``infer_layout`` (fresh each
run: the in-process memo is cleared) and of ``exemplar`` for one chart.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infrawright.model import layout as layout_module
from infrawright.model.exemplar import exemplar
from infrawright.model.loader import load_repo


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="iw-bench-layout-") as tmp:
        root = Path(tmp) / "repo"
        gen = Path(__file__).with_name("gen_repo.py")
        subprocess.run(
            [sys.executable, str(gen), str(root), "--components", str(args.components), "--no-git"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        started = time.perf_counter()
        model = load_repo(root)
        load_s = time.perf_counter() - started
        infer, pick = [], []
        for _ in range(args.runs):
            layout_module._cache.clear()
            started = time.perf_counter()
            layout = layout_module.infer_layout(model)
            infer.append(time.perf_counter() - started)
            started = time.perf_counter()
            exemplar(model, layout, None, "external-dns")
            pick.append(time.perf_counter() - started)
        cluster = layout.clusters[0]
        found = len(cluster.components)
        print(f"components: {found} HelmRelease components, {args.components} generated")
        print(f"{'load_repo (cold)':<28}{load_s:8.3f} s")
        median = statistics.median(infer)
        print(f"{'infer_layout (median)':<28}{median:8.3f} s  (min {min(infer):.3f})")
        print(f"{'exemplar (median)':<28}{statistics.median(pick):8.3f} s  (min {min(pick):.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
