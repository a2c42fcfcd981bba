"""The committed notebooks pass ``pytest --nbval`` on another CPU code path and thread count too.

A CI machine may lack AVX-512 or have one core; a reader's may be anything. Running every
notebook with the AVX2 code (ATen's and MKL's) on one thread changes the summation order
of every float32 reduction, so training follows another trajectory: measured values must
stay within their tolerances, exact outputs must not move, and nothing may be written
into the tree (the subprocess's own session guard, conftest.py, checks that).
"""

import os
import subprocess
import sys
from pathlib import Path

from overparam_lib.book.robustness import code_path_env

ROOT = Path(__file__).resolve().parents[1]


def test_notebooks_pass_on_the_avx2_code_path_with_one_thread():
    env = {**os.environ, **code_path_env("avx2", threads=1)}
    result = subprocess.run([sys.executable, "-m", "pytest", "notebooks", "-q"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
