"""The reproducibility stamp that ends every notebook: versions, device, profile, seed, wall time."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import torch

import overparam_lib
from overparam_lib.configs.profiles import seconds_since_configure
from overparam_lib.device import resolve_device

#: Set by ``overparam run``: the stamp is also written to this JSON file, so the runner
#: learns what the kernel saw (device, wall time) without parsing notebook outputs.
RUN_RECORD_ENV_VAR = "OVERPARAM_RUN_RECORD"


def repro_stamp(config) -> dict[str, str]:
    """What produced this run: library, torch and Python versions, device, profile, seed, wall time.

    Wall time runs from the notebook's validation cell (its call of
    :func:`~overparam_lib.configs.configure`) to this call.

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
        "wall_time": f"{seconds_since_configure():.1f} s",
    }
    record = os.environ.get(RUN_RECORD_ENV_VAR)
    if record:
        Path(record).write_text(json.dumps(stamp))
    return stamp


def format_stamp(stamp: dict[str, str]) -> str:
    """One ``key: value`` line per entry, for the end of a notebook."""
    return "\n".join(f"{key.replace('_', ' ') + ':':<10} {value}" for key, value in stamp.items())
