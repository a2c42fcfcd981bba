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


def sweep_labels(y: torch.Tensor, config) -> torch.Tensor:
    """Training labels of every model of ``config``'s sweep (noise, seed, width order): (M, n).

    Replicate ``s`` at noise level ``q`` trains on ``y`` with a fraction ``q`` of labels
    replaced by a wrong class, drawn with seed ``config.seed + s`` (the same corrupted
    labels at every width, so the width is the only thing that changes along a curve).
    """
    rows = []
    for q in config.noise:
        for s in range(config.num_seeds):
            y_noisy = corrupt_labels(y, q, num_classes=10, seed=config.seed + s)
            rows += [y_noisy] * len(config.widths)
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
        model, X, sweep_labels(y, config).to(X.device), X_test, y_test,
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
