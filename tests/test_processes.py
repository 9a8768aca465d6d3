"""No kustomize build outlives the run that started it: killed with SIGKILL (a CI job's
timeout), stopped with SIGTERM or interrupted with SIGINT, infrawright leaves nothing
running, and a build folder a killed run left behind is removed by the next run.

The kustomize here is a stand-in that notes its PID and then waits: what is tested is how
infrawright starts and stops its children, which needs a build that takes long.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import EXAMPLE, copy_repo

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux only")

SLOW_KUSTOMIZE = """#!/bin/sh
if [ "$1" = version ]; then echo v5.5.0; exit 0; fi
echo $$ >> "{pids}"
exec sleep 60
"""


def gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for its reaper counts as exited)."""
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state or "\nState:\tX" in state


def wait_for(check: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return True
        time.sleep(0.05)
    return False


def start_validate(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    """``infrawright validate`` of the example with the slow kustomize, in its own temp
    folder; returns the process, the file the builds note their PIDs in, and that folder."""
    repo = copy_repo(EXAMPLE, tmp_path / "repo")
    pids = tmp_path / "pids"
    script = tmp_path / "kustomize"
    script.write_text(SLOW_KUSTOMIZE.format(pids=pids))
    script.chmod(0o755)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {
        **os.environ,
        "INFRAWRIGHT_KUSTOMIZE": str(script),
        "INFRAWRIGHT_CACHE_DIR": str(tmp_path / "cache"),
        "TMPDIR": str(temp),
    }
    code = "import sys; from infrawright.cli.app import main; main(sys.argv[1:])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "validate", "--repo", str(repo)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert wait_for(lambda: pids.is_file() and pids.read_text().strip(), 60), "no build started"
    return proc, pids, temp


def sweep(temp: Path) -> int:
    """How many build folders a new process with ``temp`` as its temp folder removes."""
    code = "from infrawright.build.kustomize import sweep_stale; print(sweep_stale())"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def build_pids(pids: Path) -> list[int]:
    return [int(line) for line in pids.read_text().split()]


SIGNALS = [
    (signal.SIGKILL, -signal.SIGKILL),
    (signal.SIGTERM, 128 + signal.SIGTERM),
    (signal.SIGINT, 130),
]


@pytest.mark.parametrize(("sig", "code"), SIGNALS)
def test_no_build_outlives_infrawright(sig: signal.Signals, code: int, tmp_path: Path) -> None:
    proc, pids, _temp = start_validate(tmp_path)
    proc.send_signal(sig)
    assert proc.wait(timeout=30) == code
    started = build_pids(pids)
    assert started
    assert wait_for(lambda: all(gone(pid) for pid in build_pids(pids)), 10), (
        f"builds still running after {sig.name}: {build_pids(pids)}"
    )


def test_a_killed_runs_build_folders_are_removed_by_the_next(tmp_path: Path) -> None:
    proc, pids, temp = start_validate(tmp_path)
    left = [p for p in temp.iterdir() if p.name.startswith("infrawright-build-")]
    assert left, "the build folder is named after its process"
    assert all(p.name.startswith(f"infrawright-build-{proc.pid}-") for p in left)
    proc.kill()
    proc.wait(timeout=30)
    assert wait_for(lambda: all(gone(pid) for pid in build_pids(pids)), 10)
    assert all(p.exists() for p in left)  # SIGKILL: nothing could clean up
    old = time.time() - 3600
    for path in left:
        os.utime(path, (old, old))
    assert sweep(temp) == len(left)
    assert not any(p.exists() for p in left)


def test_a_recent_folder_of_a_gone_process_and_a_live_ones_are_kept(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    fresh = temp / "infrawright-build-999999999-abc"  # no such process, but just made
    fresh.mkdir()
    live = temp / f"infrawright-build-{os.getppid()}-abc"  # our parent is alive
    live.mkdir()
    old = time.time() - 3600
    os.utime(live, (old, old))
    assert sweep(temp) == 0
    assert fresh.exists() and live.exists()
