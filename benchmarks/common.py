"""What the benchmarks share: the machine's name, device synchronization, median-and-range reporting."""

from __future__ import annotations

import platform
import statistics

import torch


def sync(device: torch.device) -> None:
    """Wait for the device's queued work, so a wall-clock timer measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def machine(device: torch.device) -> str:
    """The GPU's name, or the CPU model, its code path (AVX2, AVX512) and torch's thread count."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA)"
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {torch.backends.cpu.get_cpu_capability()}, {torch.get_num_threads()} threads"


def median_range(values: list[float], fmt: str = ",.0f") -> str:
    """``median (min-max)`` of repeated measurements: the typical run and the spread, not the best."""
    return f"{statistics.median(values):{fmt}} ({min(values):{fmt}}–{max(values):{fmt}})"
