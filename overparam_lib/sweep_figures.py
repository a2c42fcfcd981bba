"""Figures of a width sweep with seed bands: test error, training error by label kind, test loss.

Both deep double descent notebooks draw their model-wise and epoch-wise figures with these,
so the two pages show the same quantities the same way.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from overparam_lib.claims import seed_interval
from overparam_lib.sweeps import WidthSweep, interpolation_threshold


def seed_band(values: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over seeds and its Student-t confidence band (:func:`~overparam_lib.claims.seed_interval`):
    values (S, ...) -> three (...) arrays. With one seed the band is the mean itself."""
    if values.shape[0] < 2:
        mean = values.mean(0)
        return mean, mean, mean
    return seed_interval(values, level)


def _band(ax: Axes, x, values: np.ndarray, color, label: str, **style) -> None:
    mean, low, high = seed_band(values)
    ax.plot(x, mean, color=color, label=label, **style)
    ax.fill_between(x, low, high, color=color, alpha=0.25, lw=0)


def plot_modelwise(ax_error: Axes, ax_loss: Axes, sweep: WidthSweep, noise_index: int, color) -> float:
    """After the last step, against the width: test error with its 95% band over seeds and the
    training error (split into intact and corrupted labels when there is label noise) on
    ``ax_error``; test loss with its band on ``ax_loss``. A dotted line marks the interpolation
    threshold of the mean training error.

    Returns:
        The threshold (``nan`` if the widest model does not interpolate).
    """
    q = sweep.noise[noise_index]
    last = lambda a: a[-1, noise_index]  # (S, W)
    _band(ax_error, sweep.widths, last(sweep.test_error), color, f"test, {q:.0%} noise", marker="o", ms=3.5)
    if q > 0:
        _band(ax_error, sweep.widths, last(sweep.train_error_clean), color, "train, intact labels", ls="--")
        _band(ax_error, sweep.widths, last(sweep.train_error_corrupted), color, "train, corrupted labels", ls=":")
    else:
        _band(ax_error, sweep.widths, last(sweep.train_error), color, "train", ls="--")
    _band(ax_loss, sweep.widths, last(sweep.test_loss), color, f"test loss, {q:.0%} noise", marker="o", ms=3.5)
    threshold = float(interpolation_threshold(sweep.widths, last(sweep.train_error).mean(0)))
    for ax in (ax_error, ax_loss):
        if np.isfinite(threshold):
            ax.axvline(threshold, color=color, ls=":", lw=1.2)
        ax.set_xscale("log")
        ax.set_xlabel("hidden width $h$")
        # parameters of the 40-h-h-10 MLP, 40h + h + h^2 + h + 10h + 10, and its inverse
        top = ax.secondary_xaxis("top", functions=(lambda h: h**2 + 52 * h + 10,
                                                   lambda p: np.sqrt(np.maximum(p + 666, 0)) - 26))
        top.set_xlabel("parameters")
    ax_error.set(ylabel="error", ylim=(0, 1))
    ax_loss.set(ylabel="test cross-entropy (nats)")
    return threshold


def plot_epochwise(ax: Axes, sweep: WidthSweep, noise_index: int, width_indices, colors) -> None:
    """Over training, at some widths: test error with its 95% band over seeds (solid) and the
    training error on the corrupted labels (dotted; on all labels without label noise)."""
    steps = np.maximum(sweep.steps, 1)  # initialization (step 0) drawn at 1 on the log axis
    noisy = sweep.noise[noise_index] > 0
    train = sweep.train_error_corrupted if noisy else sweep.train_error
    for j, color in zip(width_indices, colors):
        h = sweep.widths[j]
        _band(ax, steps, sweep.test_error[:, noise_index, :, j].T, color, f"test, h = {h}")
        ax.plot(steps, train[:, noise_index, :, j].mean(1), ":", color=color,
                label=f"train ({'corrupted labels' if noisy else 'all labels'}), h = {h}")
    ax.set(xscale="log", xlabel="optimizer step", ylabel="error", ylim=(0, 1))
