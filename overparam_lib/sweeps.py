"""Width sweeps of MLP classifiers on MNIST-1D: the grid, its labels, batched runs, its threshold.

A sweep is every combination of label-noise level x seed x hidden width, trained in
batched runs by :func:`overparam_lib.train.train`; finished (noise, seed) points are kept
in a :class:`~overparam_lib.cache.SweepCache`, so an interrupted sweep resumes. Results
come back as arrays indexed ``(..., noise, seed, width)`` so notebooks can plot them directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from overparam_lib.cache import SweepCache, cache_dir, cache_key, tensor_digest
from overparam_lib.data import corrupt_labels
from overparam_lib.errors import ParameterError, check_int
from overparam_lib.models import MLPBatch
from overparam_lib.train import train

_METRICS = ("train_error", "test_error", "train_loss", "test_loss", "train_error_clean", "train_error_corrupted")


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
    train_error_clean: np.ndarray  # (R, L, S, W) training error on the examples whose label is intact
    train_error_corrupted: np.ndarray  # (R, L, S, W) ... on those whose label was corrupted (nan at 0% noise)


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


def run_width_sweep(
    config, X, y, X_test, y_test, weight_decay=0.0, progress: bool | None = None, *,
    cache: SweepCache | None = None, models_per_run: int = 128,
) -> WidthSweep:
    """Train every model of a sweep config (e.g. :class:`DeepDoubleDescentConfig`), reusing cached points.

    A *point* is one (noise level, seed) replicate: its curve over all widths. Points found
    in ``cache`` are loaded; the others are trained in batched runs of whole points, at most
    ``models_per_run`` models each (a point with more widths is a run of its own), and each
    is saved as soon as its run ends, so an interrupted sweep resumes from the last run.
    A point's result does not depend on which run trains it: a model's init depends only
    on its width and seed, its labels on its noise level and seed, and every run uses the
    minibatch order of ``config.seed`` (up to floating-point summation order, as runs
    group models into different buckets).

    Args:
        config: holds ``widths``, ``noise``, ``num_seeds``, ``steps``, ``batch_size``,
            ``optimizer``, ``lr``, ``record_steps``, ``seed``.
        X, y: (n, d) inputs and (n,) clean training labels, on the device to train on;
            the models take ``X``'s dtype.
        X_test, y_test: test inputs and labels.
        weight_decay: one value, or one per model (noise, seed, width order).
        progress: show a progress bar (default: unless ``OVERPARAM_PROGRESS=0``).
        cache: finished points (default: ``SweepCache(cache_dir())``, set by the
            environment variable ``OVERPARAM_CACHE_DIR``; ``SweepCache(None)`` recomputes).
        models_per_run: most models trained together (whole points).

    Returns:
        A :class:`WidthSweep`.
    """
    check_int("models_per_run", models_per_run)
    cache = SweepCache(cache_dir()) if cache is None else cache
    num_widths = len(config.widths)
    points = [(i, s) for i in range(len(config.noise)) for s in range(config.num_seeds)]  # (noise index, replicate)
    decays = _point_decays(weight_decay, len(points), num_widths)
    params = [_point_params(config, X.shape[0], config.noise[i], s, decay) for (i, s), decay in zip(points, decays)]
    data = tensor_digest(X, y, X_test, y_test)
    keys = [cache_key(p, data, X.device.type, X.dtype) for p in params]
    results = [cache.load(key) for key in keys]
    for run in _runs([j for j, r in enumerate(results) if r is None], num_widths, models_per_run):
        run_decay = weight_decay if np.ndim(weight_decay) == 0 else [d for j in run for d in decays[j]]
        trained = _train_points(config, [points[j] for j in run], X, y, X_test, y_test, run_decay, progress)
        for j, arrays in zip(run, trained):
            cache.save(keys[j], arrays, params[j])
            results[j] = arrays
    return _assemble(config, results)


def _point_decays(weight_decay, num_points: int, num_widths: int) -> list[list[float]]:
    """Each point's weight decay, one value per width: a scalar is repeated, a per-model array sliced."""
    decay = np.asarray(weight_decay, dtype=np.float64)
    M = num_points * num_widths
    if decay.ndim > 1 or decay.size not in (1, M):
        raise ParameterError("weight_decay", weight_decay, f"one value, or one per model ({M})")
    decay = np.broadcast_to(decay.reshape(-1), (M,)).reshape(num_points, num_widths)  # (P, W)
    return decay.tolist()


def _point_params(config, n_train: int, noise: float, replicate: int, weight_decay: list[float]) -> dict:
    """Everything in ``config`` that a point's result depends on (its cache key), as plain JSON values."""
    return {
        "n_train": int(n_train), "widths": [int(h) for h in config.widths], "steps": int(config.steps),
        "batch_size": config.batch_size, "optimizer": config.optimizer, "lr": float(config.lr),
        "record_steps": [int(r) for r in config.record_steps], "weight_decay": weight_decay,
        "noise": float(noise), "seed": int(config.seed + replicate), "batch_seed": int(config.seed),
    }


def _runs(missing: list[int], num_widths: int, models_per_run: int) -> list[list[int]]:
    """Consecutive groups of the missing points, as many per run as fit in ``models_per_run`` (at least one)."""
    per_run = max(1, models_per_run // num_widths)
    return [missing[k : k + per_run] for k in range(0, len(missing), per_run)]


def _train_points(config, points, X, y, X_test, y_test, weight_decay, progress) -> list[dict[str, np.ndarray]]:
    """Train the points ``[(noise index, replicate), ...]`` in one batched run; each point's arrays."""
    W = len(config.widths)
    seeds = [config.seed + s for _, s in points for _ in range(W)]  # replicate s: init seed `seed + s`
    model = MLPBatch(X.shape[1], list(config.widths) * len(points), 10, seeds=seeds, device=X.device, dtype=X.dtype)
    labels = torch.cat([sweep_labels(y, [config.noise[i]], 1, config.seed + s, W) for i, s in points])  # (M, n)
    history = train(
        model, X, labels.to(X.device), X_test, y_test,
        steps=config.steps, batch_size=config.batch_size, optimizer=config.optimizer, lr=config.lr,
        weight_decay=weight_decay, record_steps=config.record_steps, batch_seed=config.seed, progress=progress,
        y_clean=y,
    )
    num_parameters = np.array(model.num_parameters()[:W])
    return [{"step": history["step"], "num_parameters": num_parameters,
             **{k: history[k][:, p * W : (p + 1) * W] for k in _METRICS}} for p in range(len(points))]  # (R, W) each


def _assemble(config, results: list[dict[str, np.ndarray]]) -> WidthSweep:
    """The :class:`WidthSweep` of every point's arrays, in (noise, seed) order."""
    steps = results[0]["step"]
    shape = (len(steps), len(config.noise), config.num_seeds, len(config.widths))
    return WidthSweep(
        widths=np.array(config.widths),
        noise=np.array(config.noise),
        num_parameters=results[0]["num_parameters"],
        steps=steps,
        **{k: np.stack([r[k] for r in results], axis=1).reshape(shape) for k in _METRICS},  # (R, P, W) -> (R, L, S, W)
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
        ``peak_width``, ``peak_error``, ``end_error``, ``prominence``, and the indices
        ``classical_index`` and ``peak_index`` into ``widths``.
    """
    below = np.flatnonzero(widths < threshold) if np.isfinite(threshold) else np.arange(len(widths))
    classical = below[np.argmin(test_error[below])] if below.size else 0
    peak = classical + int(np.argmax(test_error[classical:]))
    end = test_error[-1]
    return {
        "classical_width": float(widths[classical]), "classical_error": float(test_error[classical]),
        "peak_width": float(widths[peak]), "peak_error": float(test_error[peak]), "end_error": float(end),
        "prominence": float(test_error[peak] - max(test_error[classical], end)),
        "classical_index": int(classical), "peak_index": int(peak),
    }

