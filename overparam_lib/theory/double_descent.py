"""Closed-form risk curves of the double descent chapter, which its experiments are checked against.

All functions take NumPy-broadcastable arrays and return float64 arrays. Notation of
{cite}`HastieSurprises2020`: ``gamma = p/n``, ``signal = r^2 = ||beta||^2``,
``noise = sigma^2``; risks are excess test risks ``E[(x^T(beta_hat - beta))^2]``
for isotropic features, which equal ``||beta_hat - beta||^2``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from overparam_lib.errors import ParameterError, check_real


def ridgeless_risk(gamma: ArrayLike, signal: float = 1.0, noise: float = 1.0) -> np.ndarray:
    """Asymptotic risk of min-norm least squares as ``n, p -> inf`` with ``p/n -> gamma``.

    ``R(gamma) = sigma^2 gamma / (1 - gamma)`` for ``gamma < 1`` and
    ``R(gamma) = r^2 (1 - 1/gamma) + sigma^2 / (gamma - 1)`` for ``gamma > 1``
    ({cite}`HastieSurprises2020`, isotropic features); ``inf`` at ``gamma = 1``.
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
    ({cite}`HastieSurprises2020`, ridge with isotropic features; {cite}`DobribanHighDimensional2018`).
    """
    ridge = np.asarray(ridge, dtype=np.float64)
    m, dm = marchenko_pastur_stieltjes(-ridge, gamma)
    return ridge**2 * signal * dm + noise * np.asarray(gamma) * (m - ridge * dm)


def optimal_ridge(gamma: ArrayLike, signal: float = 1.0, noise: float = 1.0) -> np.ndarray:
    """Risk-minimizing ridge ``lambda* = sigma^2 gamma / r^2`` ({cite}`HastieSurprises2020`, optimally tuned ridge).

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


#: Gaussian moments of the activation {cite}`MeiGeneralization2019`: ``mu_0 = E sigma(G)``,
#: ``mu_1 = E G sigma(G)``, ``mu_*^2 = E sigma(G)^2 - mu_0^2 - mu_1^2`` for ``G ~ N(0, 1)``.
ACTIVATION_MOMENTS = {"relu": (1 / np.sqrt(2 * np.pi), 0.5, 0.25 - 1 / (2 * np.pi))}  # (mu_0, mu_1, mu_*^2)


def _check_ratio(name: str, value: ArrayLike) -> np.ndarray:
    value = np.asarray(value, dtype=np.float64)
    if value.size == 0 or not (np.isfinite(value) & (value > 0)).all():
        raise ParameterError(name, value.tolist(), "finite numbers > 0")
    return value


def random_features_ridgeless_bias_variance(
    psi1: ArrayLike, psi2: ArrayLike, activation: str = "relu"
) -> tuple[np.ndarray, np.ndarray]:
    """Bias ``B`` and variance ``V`` factors of min-norm random-features regression.

    With ``zeta^2 = mu_1^2 / mu_*^2``, ``psi = min(psi1, psi2)`` and
    ``chi = -[(psi zeta^2 - zeta^2 - 1) + sqrt((psi zeta^2 - zeta^2 - 1)^2 + 4 psi zeta^2)] / (2 zeta^2)``,
    ``B = E1 / E0`` and ``V = E2 / E0`` with the polynomials

    - ``E0 = -chi^5 zeta^6 + 3 chi^4 zeta^4 + (psi1 psi2 - psi2 - psi1 + 1) chi^3 zeta^6 - 2 chi^3 zeta^4
      - 3 chi^3 zeta^2 + (psi1 + psi2 - 3 psi1 psi2 + 1) chi^2 zeta^4 + 2 chi^2 zeta^2 + chi^2
      + 3 psi1 psi2 chi zeta^2 - psi1 psi2``,
    - ``E1 = psi2 chi^3 zeta^4 - psi2 chi^2 zeta^2 + psi1 psi2 chi zeta^2 - psi1 psi2``,
    - ``E2 = chi^5 zeta^6 - 3 chi^4 zeta^4 + (psi1 - 1) chi^3 zeta^6 + 2 chi^3 zeta^4 + 3 chi^3 zeta^2
      - (psi1 + 1) chi^2 zeta^4 - 2 chi^2 zeta^2 - chi^2``

    ({cite}`MeiGeneralization2019`, Theorem 3, the ridgeless limit ``lambda -> 0+``).
    ``B = V = inf`` at the interpolation threshold ``psi1 = psi2``.

    Args:
        psi1: N/d, features per input dimension (NumPy-broadcastable, > 0).
        psi2: n/d, samples per input dimension (> 0).
        activation: ``"relu"`` (the only one with tabulated moments, :data:`ACTIVATION_MOMENTS`).

    Returns:
        ``(B, V)`` broadcast over ``psi1`` and ``psi2``.
    """
    # Source: E0, E1, E2 as written in github.com/ybaek/rfasymp, formula1.m (MATLAB code of Theorem 3,
    # chi = nu1*nu2 from the paper's fixed point at small lambda). The closed-form chi is that product's
    # lambda -> 0 limit (checked numerically to 1e-9) and chi*zeta^2 is omega_2 of Theorem 4 as restated
    # by Wang & Bento, "Optimal activation functions for the random features regression model" (ICLR
    # 2023, eqs. 13-17); tests check the psi1 -> inf and psi2 -> inf limits against independent formulas.
    if activation not in ACTIVATION_MOMENTS:
        raise ParameterError("activation", activation, f"one of {', '.join(ACTIVATION_MOMENTS)}")
    p1, p2 = np.broadcast_arrays(_check_ratio("psi1", psi1), _check_ratio("psi2", psi2))
    _, mu1, mu_star2 = ACTIVATION_MOMENTS[activation]
    z2 = mu1**2 / mu_star2  # zeta^2
    b = np.minimum(p1, p2) * z2 - z2 - 1
    chi = -(b + np.sqrt(b**2 + 4 * np.minimum(p1, p2) * z2)) / (2 * z2)
    e0 = (-chi**5 * z2**3 + 3 * chi**4 * z2**2 + (p1 * p2 - p2 - p1 + 1) * chi**3 * z2**3
          - 2 * chi**3 * z2**2 - 3 * chi**3 * z2 + (p1 + p2 - 3 * p1 * p2 + 1) * chi**2 * z2**2
          + 2 * chi**2 * z2 + chi**2 + 3 * p1 * p2 * chi * z2 - p1 * p2)
    e1 = p2 * chi**3 * z2**2 - p2 * chi**2 * z2 + p1 * p2 * chi * z2 - p1 * p2
    e2 = (chi**5 * z2**3 - 3 * chi**4 * z2**2 + (p1 - 1) * chi**3 * z2**3 + 2 * chi**3 * z2**2
          + 3 * chi**3 * z2 - (p1 + 1) * chi**2 * z2**2 - 2 * chi**2 * z2 - chi**2)
    at_threshold = p1 == p2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(at_threshold, np.inf, e1 / e0), np.where(at_threshold, np.inf, e2 / e0)


def random_features_ridgeless_risk(
    psi1: ArrayLike,
    psi2: ArrayLike,
    signal: float = 1.0,
    noise: float = 0.0,
    nonlinear_signal: float = 0.0,
    activation: str = "relu",
) -> np.ndarray:
    """Asymptotic test risk of min-norm (ridgeless) random-features regression.

    Features ``sigma(<theta_a, x> / sqrt(d))``, ``a <= N``, with ``x`` and ``theta_a`` uniform on
    the sphere of radius ``sqrt(d)``; target ``f(x) = <beta, x> + f_NL(x)`` observed with noise.
    As ``N/d -> psi1``, ``n/d -> psi2`` and then ``lambda -> 0+``, the risk
    ``E_x[(f(x) - f_hat(x))^2]`` tends to

    ``R = F1^2 B(zeta, psi1, psi2) + (tau^2 + F*^2) V(zeta, psi1, psi2) + F*^2``

    ({cite}`MeiGeneralization2019`, Theorem 3; ``B``, ``V`` from
    :func:`random_features_ridgeless_bias_variance`). The risk is against the noiseless
    target; add ``noise`` for the error on noisy test labels.

    Args:
        psi1: N/d (NumPy-broadcastable, > 0).
        psi2: n/d (> 0).
        signal: F1^2 = ||beta||^2 >= 0, the linear part of the target.
        noise: tau^2 = Var(eps) >= 0, the label noise.
        nonlinear_signal: F*^2 >= 0, the variance of the nonlinear part f_NL, which random
            features with ``n, N ~ d`` cannot learn: it acts as noise and adds ``F*^2``.
        activation: ``"relu"``.

    Returns:
        ``R`` broadcast over ``psi1`` and ``psi2``; ``inf`` at ``psi1 = psi2``.
    """
    signal, noise = check_real("signal", signal), check_real("noise", noise)
    nonlinear_signal = check_real("nonlinear_signal", nonlinear_signal)
    bias, variance = random_features_ridgeless_bias_variance(psi1, psi2, activation)
    with np.errstate(invalid="ignore"):  # 0 * inf at psi1 = psi2: a term whose weight is 0 is absent
        bias, variance = signal * bias, (noise + nonlinear_signal) * variance
    bias, variance = np.nan_to_num(bias, nan=0.0, posinf=np.inf), np.nan_to_num(variance, nan=0.0, posinf=np.inf)
    return bias + variance + nonlinear_signal
