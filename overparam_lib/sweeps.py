"""Width sweeps of MLP classifiers on MNIST-1D: the grid, its labels, one batched run, its threshold.

A sweep is every combination of label-noise level x seed x hidden width, trained together
by :func:`overparam_lib.train.train`. Results come back as arrays indexed
``(..., noise, seed, width)`` so notebooks can plot them directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from overparam_lib.data import corrupt_labels
from overparam_lib.models import MLPBatch
from overparam_lib.train import train


@dataclass(frozen=True)
class WidthSweep:
    """Metrics of a width sweep; ``R`` recorded steps, ``L`` noise levels, ``S`` seeds, ``W`` widths."""

    widths: np.ndarray  # (W,) hidden widths h
    noise: np.ndarray  # (L,) label-noise fractions
    num_parameters: np.ndarray  # (W,) parameters of one model of each width
    steps: np.ndarray  # (R,) steps at which metrics were recorded (0 = initialization)
    train_error: np.ndarray  # (R, L, S, W) error on the (noisy) training labels
    test_error: np.ndarray  # (R, L, S, W) error on the clean test labels
    train_loss: np.ndarray  # (R, L, S, W) mean cross-entropy
    test_loss: np.ndarray  # (R, L, S, W)


def sweep_labels(y: torch.Tensor, noise, num_seeds: int, seed: int, num_widths: int = 1) -> torch.Tensor:
    """Training labels of every model of a sweep, in (noise, seed, width) order: (M, n).

    Replicate ``s`` at noise level ``q`` trains on ``y`` with a fraction ``q`` of labels
    replaced by a wrong class, drawn with seed ``seed + s``: the same corrupted labels
    at every width, so the width is the only thing that changes along a curve.
    """
    rows = []
    for q in noise:
        for s in range(num_seeds):
            rows += [corrupt_labels(y, q, num_classes=10, seed=seed + s)] * num_widths
    return torch.stack(rows)


def run_width_sweep(config, X, y, X_test, y_test, weight_decay=0.0, progress: bool | None = None) -> WidthSweep:
    """Train every model of a sweep config (e.g. :class:`DeepDoubleDescentConfig`) at once.

    Args:
        config: holds ``widths``, ``noise``, ``num_seeds``, ``model_widths``, ``model_seeds``,
            ``steps``, ``batch_size``, ``optimizer``, ``lr``, ``record_steps``, ``seed``.
        X, y: (n, d) inputs and (n,) clean training labels, on the device to train on.
        X_test, y_test: test inputs and labels.
        weight_decay: one value, or one per model (noise, seed, width order).
        progress: show a progress bar (default: unless ``OVERPARAM_PROGRESS=0``).

    Returns:
        A :class:`WidthSweep`.
    """
    model = MLPBatch(X.shape[1], config.model_widths, 10, seeds=config.model_seeds, device=X.device)
    history = train(
        model, X, sweep_labels(y, config.noise, config.num_seeds, config.seed, len(config.widths)).to(X.device),
        X_test, y_test,
        steps=config.steps, batch_size=config.batch_size, optimizer=config.optimizer, lr=config.lr,
        weight_decay=weight_decay, record_steps=config.record_steps, batch_seed=config.seed, progress=progress,
    )
    shape = (len(history["step"]), len(config.noise), config.num_seeds, len(config.widths))
    return WidthSweep(
        widths=np.array(config.widths),
        noise=np.array(config.noise),
        num_parameters=np.array(model.num_parameters()[: len(config.widths)]),
        steps=history["step"],
        **{k: history[k].reshape(shape) for k in ("train_error", "test_error", "train_loss", "test_loss")},
    )


def interpolation_threshold(widths: np.ndarray, train_error: np.ndarray) -> np.ndarray:
    """The smallest width whose training error is 0 (and stays 0 for every larger width).

    Args:
        widths: (W,) increasing widths.
        train_error: (..., W) training error, e.g. averaged over seeds.

    Returns:
        (...) widths; ``nan`` where even the largest width does not interpolate.
    """
    fits = np.flip(np.logical_and.accumulate(np.flip(train_error == 0, -1), -1), -1)  # 0 from here on
    first = np.argmax(fits, -1)
    return np.where(fits.any(-1), np.asarray(widths)[first], np.nan)


def double_descent_peak(widths: np.ndarray, test_error: np.ndarray, threshold: float) -> dict[str, float]:
    """Locate the classical minimum, the peak and the end of a model-wise test-error curve.

    The classical minimum is the lowest test error among widths below the interpolation
    ``threshold``; the peak is the highest test error at widths above that minimum; the
    end is the error at the largest width. ``prominence`` is how far the peak rises
    above the higher of the two sides.

    Args:
        widths: (W,) increasing widths.
        test_error: (W,) test error, e.g. the mean over seeds.
        threshold: interpolation threshold (a width; ``nan`` if none).

    Returns:
        Dict of widths and errors: ``classical_width``, ``classical_error``,
        ``peak_width``, ``peak_error``, ``end_error``, ``prominence``.
    """
    below = np.flatnonzero(widths < threshold) if np.isfinite(threshold) else np.arange(len(widths))
    classical = below[np.argmin(test_error[below])] if below.size else 0
    peak = classical + int(np.argmax(test_error[classical:]))
    end = test_error[-1]
    return {
        "classical_width": float(widths[classical]), "classical_error": float(test_error[classical]),
        "peak_width": float(widths[peak]), "peak_error": float(test_error[peak]), "end_error": float(end),
        "prominence": float(test_error[peak] - max(test_error[classical], end)),
    }

