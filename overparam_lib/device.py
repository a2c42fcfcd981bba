"""Device resolution and seeding: the one place that decides where tensors live."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from overparam_lib.errors import ParameterError, check_int

#: Environment variable that overrides the automatic device choice (``auto``).
DEVICE_ENV_VAR = "OVERPARAM_DEVICE"

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def _available(kind: str) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return torch.backends.mps.is_available()
    return kind == "cpu"


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """Return the torch device to compute on.

    Args:
        device: ``"auto"`` (or ``None``) picks CUDA if available, else MPS, else CPU,
            unless the environment variable ``OVERPARAM_DEVICE`` names a device, which
            then wins. An explicit ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"``
            is used as given.

    Returns:
        The resolved ``torch.device``.

    Raises:
        ParameterError: the name is unknown, or names a device this machine lacks.
    """
    source = "device"
    if device is None or str(device) == "auto":
        env = os.environ.get(DEVICE_ENV_VAR, "").strip()
        if env and env != "auto":
            device, source = env, DEVICE_ENV_VAR
        else:
            return torch.device(next(k for k in ("cuda", "mps", "cpu") if _available(k)))
    name = str(device)
    kind = name.split(":")[0]
    if kind not in DEVICE_CHOICES[1:]:
        raise ParameterError(source, name, f"one of {', '.join(DEVICE_CHOICES)}")
    if not _available(kind):
        have = ", ".join(k for k in DEVICE_CHOICES if k == "auto" or _available(k))
        raise ParameterError(source, name, f"a device this machine has ({have}); {kind} is not available")
    if kind == "cuda" and ":" in name and int(name.split(":")[1]) >= torch.cuda.device_count():
        raise ParameterError(source, name, f"cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    return torch.device(name)


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (all devices)."""
    check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed``.

    Random data are drawn on the CPU and then moved, so a given seed gives the same
    data on every device.
    """
    return torch.Generator().manual_seed(seed)
