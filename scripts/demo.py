"""`make demo`: run infrawright on a scratch copy of the bundled example repository.

The example is copied into a temporary git repository so nothing in this checkout
changes; the commands shown are the ones a user would type.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from infrawright.cli.app import run

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE = PROJECT / "examples" / "local-kube"
# Upstream CRD schemas for the schema checks, where the workspace provides them.
SHARED_CRDS = PROJECT.parent / "shared" / "crds"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="infrawright-demo-") as tmp:
        repo = Path(tmp) / "local-kube"
        shutil.copytree(EXAMPLE, repo)
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        worst = 0
        validate = ["validate", "--repo", str(repo)]
        if SHARED_CRDS.is_dir():
            validate += ["--crd-dir", str(SHARED_CRDS)]
        implement = ["implement", "--repo", str(repo), "Create HelmRelease for Redis caching"]
        for args in (["doctor"], validate, implement, ["graph", "--repo", str(repo)]):
            shown = " ".join(
                "<scratch copy of examples/local-kube>" if a == str(repo) else a for a in args
            )
            print(f"\n$ infrawright {shown}", flush=True)
            worst = max(worst, run(args))
        return worst


if __name__ == "__main__":
    sys.exit(main())
