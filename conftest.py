"""pytest setup for tests/ and notebooks/: no progress bars, so notebook outputs hold no timings (nbval compares them)."""

import os

from overparam_lib.progress import PROGRESS_ENV_VAR

os.environ[PROGRESS_ENV_VAR] = "0"  # inherited by the kernels nbval and papermill start
os.environ["OVERPARAM_CACHE_DIR"] = "off"  # tests recompute every sweep point, never read a cache
