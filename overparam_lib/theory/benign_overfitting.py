"""Closed forms of the benign-overfitting chapter: effective ranks and the membership-inference advantage.

Effective ranks {cite}`BartlettBenign2020`: for a covariance with eigenvalues
``lambda_1 >= lambda_2 >= ...``, ``r_k = sum_{i>k} lambda_i / lambda_{k+1}`` and
``R_k = (sum_{i>k} lambda_i)^2 / sum_{i>k} lambda_i^2``; min-norm interpolation is
benign when, at ``k* = min{k : r_k >= b n}``, both ``k*/n`` and ``n/R_{k*}`` are small.

Membership inference {cite}`TanParameters2022`: min-norm regression on the first ``p`` of
``D`` standard Gaussian features, ``y = x^T beta + eps`` with ``beta ~ N(0, I_D/D)`` and
``eps ~ N(0, sigma^2)``, trained on ``n < p - 1`` examples. At a target ``x0``, the model's
prediction is ``N(0, sigma_1^2)`` when ``x0`` was a training example (the fit interpolates,
so it returns ``y0``) and has variance ``sigma_0^2`` when it was not; the optimal attack
compares the two densities.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from overparam_lib.errors import ParameterError, check_int, check_real


def _eigenvalues(eigenvalues: ArrayLike) -> np.ndarray:
    lam = np.asarray(eigenvalues, dtype=float)
    if lam.ndim != 1 or lam.size == 0 or not np.isfinite(lam).all() or (lam <= 0).any() or (np.diff(lam) > 0).any():
        raise ParameterError("eigenvalues", eigenvalues if lam.size <= 8 else f"array of shape {lam.shape}",
                             "a non-empty, non-increasing list of positive numbers")
    return lam


def effective_ranks(eigenvalues: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The two effective ranks ``r_k`` and ``R_k`` of the tail after the first ``k`` eigenvalues.

    Args:
        eigenvalues: (p,) positive, non-increasing eigenvalues of the covariance.

    Returns:
        ``(r, R)``, each (p,), indexed by ``k = 0, ..., p - 1``.
    """
    lam = _eigenvalues(eigenvalues)
    tail = np.cumsum(lam[::-1])[::-1]  # sum_{i > k} lambda_i (1-based), k = 0..p-1
    tail_sq = np.cumsum((lam**2)[::-1])[::-1]
    return tail / lam, tail**2 / tail_sq


def critical_index(eigenvalues: ArrayLike, n_train: int, b: float = 1.0) -> int | None:
    """``k* = min{k : r_k >= b n}``, or ``None`` when no ``k < p`` qualifies.

    Args:
        eigenvalues: (p,) positive, non-increasing eigenvalues.
        n_train: n, the number of training examples.
        b: the constant of the definition (the paper's theorems hold for some ``b > 1``).
    """
    r, _ = effective_ranks(eigenvalues)
    return _first_at_least(r, n_train, b)


def _first_at_least(r: np.ndarray, n_train: int, b: float) -> int | None:
    check_int("n_train", n_train)
    check_real("b", b, strict=True)
    above = np.flatnonzero(r >= b * n_train)
    return int(above[0]) if above.size else None


def benign_terms(eigenvalues: ArrayLike, n_train: int, b: float = 1.0) -> dict[str, float]:
    """The variance terms of Bartlett et al.'s bounds at ``k*``: ``k*/n`` and ``n/R_{k*}``.

    The main theorem of {cite}`BartlettBenign2020` bounds the excess risk of the min-norm
    interpolator (its noise part) above and below by constants times ``k*/n + n/R_{k*}``,
    constants the paper does not give, so the sum is a rate to compare an experiment's
    trend with, not a number to compare its value with. ``nan`` when ``k*`` does not exist.
    """
    r, R = effective_ranks(eigenvalues)
    k = _first_at_least(r, n_train, b)
    if k is None:
        return {"k_star": float("nan"), "k_over_n": float("nan"), "n_over_R": float("nan"), "rate": float("nan")}
    k_over_n, n_over_R = k / n_train, n_train / R[k]
    return {"k_star": float(k), "k_over_n": k_over_n, "n_over_R": n_over_R, "rate": k_over_n + n_over_R}


def membership_variances(
    n_train: int, p: ArrayLike, num_features: int, noise: float, x0_head_norm2: ArrayLike, x0_norm2: float
) -> tuple[np.ndarray, np.ndarray]:
    """Variances of the min-norm prediction at ``x0``: not a training example, and one.

    ``sigma_0^2 = (n/p) (1/D + (1 + sigma^2 - p/D)/(p - n - 1)) ||x0[:p]||^2`` and
    ``sigma_1^2 = sigma^2 + ||x0||^2 / D``, over the draw of the other training examples,
    ``beta`` and the noise. The first term of ``sigma_0^2`` is what the fit learns of the
    ``p`` features it sees (a projection onto ``n`` of ``p`` random directions); the second
    is the unseen features and the noise, amplified by ``E[(X^T X)^+] = n/(p(p - n - 1)) I``,
    which is why it explodes as ``p`` comes down to ``n + 1``.

    Args:
        n_train: n.
        p: feature counts used by the model, each with ``n + 1 < p <= D``.
        num_features: D, the features that generate the labels.
        noise: sigma^2.
        x0_head_norm2: ``||x0[:p]||^2`` for each ``p``.
        x0_norm2: ``||x0||^2`` over all D features.

    Returns:
        ``(sigma_0^2, sigma_1^2)`` broadcast over ``p``.
    """
    check_int("n_train", n_train)
    check_int("num_features", num_features)
    check_real("noise", noise)
    check_real("x0_norm2", x0_norm2, strict=True)
    p = np.asarray(p, dtype=float)
    if not np.isfinite(p).all() or (p <= n_train + 1).any() or (p > num_features).any():
        raise ParameterError("p", p.tolist(), f"feature counts with n + 1 < p <= D (n = {n_train}, D = {num_features})")
    head = np.asarray(x0_head_norm2, dtype=float)
    non_member = (n_train / p) * (1 / num_features + (1 + noise - p / num_features) / (p - n_train - 1)) * head
    member = np.full_like(non_member, noise + x0_norm2 / num_features)
    return non_member, member


def likelihood_ratio_threshold(var0: ArrayLike, var1: ArrayLike) -> np.ndarray:
    """``a`` where the densities of ``N(0, var0)`` and ``N(0, var1)`` cross:
    ``a^2 = var0 var1 ln(var0/var1) / (var0 - var1)`` (``0`` where the variances are equal)."""
    v0, v1 = np.broadcast_arrays(np.asarray(var0, dtype=float), np.asarray(var1, dtype=float))
    if (v0 <= 0).any() or (v1 <= 0).any():
        raise ParameterError("variances", [v0.tolist(), v1.tolist()], "positive variances")
    with np.errstate(invalid="ignore", divide="ignore"):
        a2 = np.where(v0 == v1, 0.0, v0 * v1 * np.log(v0 / v1) / (v0 - v1))
    return np.sqrt(a2)


def membership_advantage(var0: ArrayLike, var1: ArrayLike) -> np.ndarray:
    """The optimal attack's advantage (true minus false positive rate) between ``N(0, var1)``
    (members) and ``N(0, var0)`` (non-members): ``2 |Phi(a/sigma_1) - Phi(a/sigma_0)|`` at the
    likelihood-ratio threshold ``a``, the total-variation distance of the two laws."""
    a = likelihood_ratio_threshold(var0, var1)
    return 2 * np.abs(norm.cdf(a / np.sqrt(var1)) - norm.cdf(a / np.sqrt(var0)))
