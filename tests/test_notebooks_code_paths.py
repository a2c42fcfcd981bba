"""The slow tier: the committed notebooks pass ``pytest --nbval`` on the AVX2 code path too.

A reader's CPU may lack AVX-512. Running every notebook with the AVX2 code (ATen's and
MKL's) on one thread per kernel changes the summation order of every float32 reduction on
a machine that has AVX-512, so training follows another trajectory there: measured values
must stay within their tolerances, exact outputs must not move, and nothing may be written
into the tree (the subprocess's own session guard, conftest.py, checks that). On a CPU
without AVX-512 this is the default path again, which the default tier already runs.

The default tier leaves this out: the robustness reports (``book/robustness/``, kept
current by ``tests/test_robustness_reports.py``) hold the same code path at seeds 0-9.
Run it with ``pytest -m slow``.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from overparam_lib.book.robustness import code_path_env

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_notebooks_pass_on_the_avx2_code_path_with_one_thread():
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}  # a run of its own
    env = {**inherited, **code_path_env("avx2", threads=1)}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "notebooks"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=3600)
    assert result.returncode == 0, result.stdout[-6000:]
