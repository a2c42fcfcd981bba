"""The reproducibility stamp that ends every notebook: versions, device, profile, seed, wall time."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import torch

import overparam_lib
from overparam_lib.device import resolve_device

#: Set by ``overparam run``: the stamp is also written to this JSON file, so the runner
#: learns what the kernel saw (device, wall time) without parsing notebook outputs.
RUN_RECORD_ENV_VAR = "OVERPARAM_RUN_RECORD"

_started_at = time.perf_counter()  # reset by start_clock()


def start_clock() -> None:
    """Start timing a notebook run: :func:`~overparam_lib.params.configure` calls it, so the
    stamp's wall time runs from the validation cell, also when a kernel runs a notebook twice."""
    global _started_at
    _started_at = time.perf_counter()


def repro_stamp(config) -> dict[str, str]:
    """What produced this run: library, torch and Python versions, device, profile, seed, wall time.

    Wall time runs from the notebook's validation cell (:func:`start_clock`) to this call.

    Args:
        config: the notebook's validated config (fields ``profile``, ``device``, ``seed``).

    Returns:
        Dict of display strings: ``versions``, ``device``, ``profile``, ``seed``, ``wall_time``.
    """
    device = resolve_device(config.device)
    stamp = {
        "versions": f"overparam-lib {overparam_lib.__version__}, torch {torch.__version__}, "
        f"Python {platform.python_version()}",
        "device": f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else device.type,
        "profile": config.profile,
        "seed": str(config.seed),
        "wall_time": f"{time.perf_counter() - _started_at:.1f} s",
    }
    record = os.environ.get(RUN_RECORD_ENV_VAR)
    if record:
        Path(record).write_text(json.dumps(stamp))
    return stamp


def format_stamp(stamp: dict[str, str]) -> str:
    """One ``key: value`` line per entry, for the end of a notebook."""
    return "\n".join(f"{key.replace('_', ' ') + ':':<10} {value}" for key, value in stamp.items())
