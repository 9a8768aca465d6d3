"""Time finding the clusters' entry points on a generated repository (not a test).

    .venv/bin/python bench/entries.py [--components 1000] [--runs 50]

Generates the repository with bench/gen_repo.py into a temporary folder, reads it once
(``read_repo``), then prints, side by side: a bare pass over every parsed document (the
least one pass can cost), ``find_entries`` (the entry points and clusters), and a warm
``load_repo`` (what one cluster's model costs in all), each the best and the median of
``--runs`` runs with the cycle collector paused, as the loader runs them.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from infrawright.model.entries import find_entries
from infrawright.model.loader import RepoRead, load_repo, read_repo


def _times(action: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        out.append(time.perf_counter() - started)
    return out


def _bare(read: RepoRead) -> int:
    n = 0
    for parsed in read.files.values():
        for doc in parsed.documents:
            n += doc.kind == "Kustomization"
    return n


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="iw-bench-entries-") as tmp:
        os.environ["INFRAWRIGHT_CACHE_DIR"] = str(Path(tmp) / "cache")
        root = Path(tmp) / "repo"
        gen = Path(__file__).with_name("gen_repo.py")
        subprocess.run(
            [sys.executable, str(gen), str(root), "--components", str(args.components), "--no-git"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        read = read_repo(root)
        load_repo(root, read=read)  # the parsed-file cache filled, objects listed once
        docs = sum(len(f.documents) for f in read.files.values())
        gc.disable()
        try:
            rows = [
                ("bare pass over documents", _times(lambda: _bare(read), args.runs)),
                (
                    "find_entries",
                    _times(lambda: find_entries(read.files, read.listings), args.runs),
                ),
            ]
        finally:
            gc.enable()
        rows.append(("load_repo (warm, all of it)", _times(lambda: load_repo(root), 10)))
        print(
            f"repository: {len(read.files)} YAML files, {docs} documents, "
            f"{args.components} components"
        )
        print(f"clusters found: {', '.join(read.entries.names) or 'none'}")
        for label, times in rows:
            print(
                f"{label:<30}best {min(times) * 1000:8.2f} ms   median "
                f"{statistics.median(times) * 1000:8.2f} ms"
            )
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
