"""Closed-form risk curves that the experiments are checked against.

All functions take NumPy-broadcastable arrays and return float64 arrays. Notation of
{cite}`HastieSurprises2020`: ``gamma = p/n``, ``signal = r^2 = ||beta||^2``,
``noise = sigma^2``; risks are excess test risks ``E[(x^T(beta_hat - beta))^2]``
for isotropic features, which equal ``||beta_hat - beta||^2``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def ridgeless_risk(gamma: ArrayLike, signal: float = 1.0, noise: float = 1.0) -> np.ndarray:
    """Asymptotic risk of min-norm least squares as ``n, p -> inf`` with ``p/n -> gamma``.

    ``R(gamma) = sigma^2 gamma / (1 - gamma)`` for ``gamma < 1`` and
    ``R(gamma) = r^2 (1 - 1/gamma) + sigma^2 / (gamma - 1)`` for ``gamma > 1``
    ({cite}`HastieSurprises2020`, Theorem 1); ``inf`` at ``gamma = 1``.
    """
    gamma = np.asarray(gamma, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        under = noise * gamma / (1 - gamma)
        over = signal * (1 - 1 / gamma) + noise / (gamma - 1)
    return np.where(gamma < 1, under, np.where(gamma > 1, over, np.inf))


def ridgeless_risk_finite(n_train: int, p: ArrayLike, signal: float = 1.0, noise: float = 1.0) -> np.ndarray:
    """Exact mean risk of min-norm least squares at finite ``n`` and ``p`` (Gaussian design).

    ``E||beta_hat - beta||^2 = sigma^2 p / (n - p - 1)`` for ``p < n - 1`` (the mean
    of an inverse Wishart matrix) and ``r^2 (p - n)/p + sigma^2 n / (p - n - 1)``
    for ``p > n + 1`` (projection of beta onto the null space of X, plus the inverse
    Wishart of ``X X^T``). ``inf`` for ``|p - n| <= 1``, where the mean diverges.
    """
    p = np.asarray(p, dtype=np.float64)
    n = float(n_train)
    with np.errstate(divide="ignore", invalid="ignore"):
        under = noise * p / (n - p - 1)
        over = signal * (p - n) / p + noise * n / (p - n - 1)
    return np.where(p < n - 1, under, np.where(p > n + 1, over, np.inf))


def marchenko_pastur_stieltjes(z: ArrayLike, gamma: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Stieltjes transform ``m(z)`` of the Marchenko-Pastur law and its derivative, for real ``z < 0``.

    The law is the limiting spectrum of ``X^T X / n`` with ``p/n -> gamma``
    {cite}`MarchenkoDistribution1967`, including its atom ``1 - 1/gamma`` at 0 when
    ``gamma > 1``. ``m(z) = E[1/(s - z)]`` is the root of
    ``gamma z m^2 + (z + gamma - 1) m + 1 = 0`` that is positive for ``z < 0``:
    ``m(z) = (1 - gamma - z - sqrt((1 - gamma - z)^2 - 4 gamma z)) / (2 gamma z)``.
    Differentiating the quadratic gives
    ``m'(z) = -(gamma m^2 + m) / (2 gamma z m + z + gamma - 1)``.

    Returns:
        ``(m, dm)``: ``m(z)`` and ``m'(z)``, broadcast over ``z`` and ``gamma``.
    """
    z = np.asarray(z, dtype=np.float64)
    gamma = np.asarray(gamma, dtype=np.float64)
    b = 1 - gamma - z
    m = (b - np.sqrt(b**2 - 4 * gamma * z)) / (2 * gamma * z)
    dm = -(gamma * m**2 + m) / (2 * gamma * z * m + z + gamma - 1)
    return m, dm


def ridge_risk(gamma: ArrayLike, ridge: ArrayLike, signal: float = 1.0, noise: float = 1.0) -> np.ndarray:
    """Asymptotic risk of ridge regression ``(X^T X + n*lambda*I)^{-1} X^T y``, ``lambda > 0``.

    ``R(lambda; gamma) = lambda^2 r^2 m'(-lambda) + sigma^2 gamma [m(-lambda) - lambda m'(-lambda)]``
    with ``m`` the Marchenko-Pastur Stieltjes transform
    ({cite}`HastieSurprises2020`, Theorem 5; {cite}`DobribanHighDimensional2018`).
    """
    ridge = np.asarray(ridge, dtype=np.float64)
    m, dm = marchenko_pastur_stieltjes(-ridge, gamma)
    return ridge**2 * signal * dm + noise * np.asarray(gamma) * (m - ridge * dm)


def optimal_ridge(gamma: ArrayLike, signal: float = 1.0, noise: float = 1.0) -> np.ndarray:
    """Risk-minimizing ridge ``lambda* = sigma^2 gamma / r^2`` ({cite}`HastieSurprises2020`, Theorem 6).

    At ``lambda*`` the risk simplifies to ``sigma^2 gamma m(-lambda*)`` and is
    increasing in ``gamma``: the double-descent peak is gone.
    """
    return noise * np.asarray(gamma, dtype=np.float64) / signal


def best_overparameterized_gamma(signal: float = 1.0, noise: float = 1.0) -> float:
    """Where the asymptotic ridgeless risk is lowest for ``gamma > 1``.

    Setting ``d/dgamma [r^2 (1 - 1/gamma) + sigma^2/(gamma - 1)] = 0`` gives
    ``(gamma - 1)/gamma = sigma/r``, i.e. ``gamma = 1/(1 - sigma/r)`` when
    ``sigma < r``; for ``sigma >= r`` the risk decreases all the way to ``r^2``
    and the minimum is at ``gamma -> inf``.
    """
    ratio = np.sqrt(noise / signal)
    return float(1 / (1 - ratio)) if ratio < 1 else float("inf")
