"""pytest setup for tests/ and notebooks/.

- nbval compares measured values within their tolerance (``overparam_lib.book.nbval_tolerance``).
- Kernels show no progress bars (nbval compares outputs), read no sweep cache (tests
  recompute every point), and write no chapter figures (the folder variable is unset).
- Under pytest-xdist each worker and the kernels it starts share the cores: one worker per
  core runs one thread (more cores than workers: their share), unless the caller set it.
- A test run never writes into the tracked tree: the session fails if it did.
"""

import os
import subprocess
from pathlib import Path

if "PYTEST_XDIST_WORKER_COUNT" in os.environ:  # before anything imports torch
    _threads = str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, _threads)

import pytest

from overparam_lib.book.build import FIGURES_ENV_VAR
from overparam_lib.progress import PROGRESS_ENV_VAR

pytest_plugins = ["overparam_lib.book.nbval_tolerance"]

# inherited by the kernels nbval and papermill start
os.environ[PROGRESS_ENV_VAR] = "0"
os.environ["OVERPARAM_CACHE_DIR"] = "off"
os.environ.pop(FIGURES_ENV_VAR, None)

ROOT = Path(__file__).resolve().parent


def tracked_state(root: Path = ROOT) -> dict[str, tuple[int, int]] | None:
    """(mtime, size) of every file git tracks, and the untracked files it does not ignore;
    None outside a git checkout."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=root, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    state = {}
    for name in filter(None, listed.decode().split("\0")):
        path = root / name
        stat = path.stat() if path.exists() else None
        state[name] = (stat.st_mtime_ns, stat.st_size) if stat else (-1, -1)
    return state


def pytest_sessionstart(session):
    session.config._tree_before = tracked_state()


def pytest_sessionfinish(session, exitstatus):
    before = getattr(session.config, "_tree_before", None)
    after = tracked_state() if before is not None else None
    if before is None or after == before:
        return
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    message = f"the test run wrote into the repository's tree: {', '.join(changed[:20])}"
    if reporter:
        reporter.write_line(f"ERROR: {message}", red=True, bold=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
