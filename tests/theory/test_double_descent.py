"""Closed-form risk curves against numerical integration, optimization and Monte Carlo."""

import numpy as np
import pytest
import torch
from scipy import integrate, optimize

from overparam_lib.theory import double_descent as theory
from overparam_lib.linear import simulate_excess_risk


def mp_stieltjes_by_quadrature(z, gamma):
    """E[1/(s - z)] under the Marchenko-Pastur law, integrating its density directly."""
    a, b = (1 - np.sqrt(gamma)) ** 2, (1 + np.sqrt(gamma)) ** 2
    density = lambda s: np.sqrt((b - s) * (s - a)) / (2 * np.pi * gamma * s)
    bulk, _ = integrate.quad(lambda s: density(s) / (s - z), a, b, epsabs=1e-12, epsrel=1e-12)
    atom = max(0.0, 1 - 1 / gamma)  # mass at s = 0 when p > n
    return bulk + atom / (0 - z)


@pytest.mark.parametrize("gamma", [0.2, 0.7, 1.0, 1.5, 4.0])
@pytest.mark.parametrize("lam", [0.01, 0.3, 2.0])
def test_stieltjes_matches_quadrature_and_finite_differences(gamma, lam):
    m, dm = theory.marchenko_pastur_stieltjes(-lam, gamma)
    assert m == pytest.approx(mp_stieltjes_by_quadrature(-lam, gamma), rel=1e-7)
    h = 1e-5 * lam
    numeric = (mp_stieltjes_by_quadrature(-lam + h, gamma) - mp_stieltjes_by_quadrature(-lam - h, gamma)) / (2 * h)
    assert dm == pytest.approx(numeric, rel=1e-5)


@pytest.mark.parametrize("gamma", [0.3, 0.8, 1.3, 5.0])
def test_ridge_risk_tends_to_ridgeless_as_lambda_vanishes(gamma):
    assert theory.ridge_risk(gamma, 1e-8, 1.0, 0.5) == pytest.approx(theory.ridgeless_risk(gamma, 1.0, 0.5), rel=1e-5)


@pytest.mark.parametrize("gamma", [0.3, 1.0, 2.5])
def test_optimal_ridge_minimizes_ridge_risk(gamma):
    result = optimize.minimize_scalar(
        lambda log_lam: theory.ridge_risk(gamma, np.exp(log_lam), 1.0, 0.5), bounds=(-10, 5), method="bounded",
        options={"xatol": 1e-9},
    )
    assert np.exp(result.x) == pytest.approx(theory.optimal_ridge(gamma, 1.0, 0.5), rel=1e-3)


@pytest.mark.parametrize("noise", [0.25, 0.5])
def test_best_overparameterized_gamma_minimizes_ridgeless_risk(noise):
    result = optimize.minimize_scalar(lambda g: theory.ridgeless_risk(g, 1.0, noise), bounds=(1.01, 50), method="bounded")
    assert theory.best_overparameterized_gamma(1.0, noise) == pytest.approx(result.x, rel=1e-4)
    assert theory.best_overparameterized_gamma(1.0, 1.0) == np.inf  # sigma >= r: decreasing all the way


def test_finite_n_risk_converges_to_asymptotic():
    for gamma in (0.5, 2.0):
        n = 10**6
        assert theory.ridgeless_risk_finite(n, gamma * n, 1.0, 0.5) == pytest.approx(theory.ridgeless_risk(gamma, 1.0, 0.5), rel=1e-5)
    assert np.isinf(theory.ridgeless_risk_finite(100, [99, 100, 101], 1.0, 0.5)).all()


# Monte Carlo: S draws give the mean risk with standard error se; 4 standard errors
# is a two-sided test that a correct formula fails with probability ~6e-5 per point.
Z_LIMIT = 4


@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_ridgeless_exact_mean_matches_monte_carlo_on_both_sides_of_threshold(noise):
    n, widths = 40, [8, 20, 28, 60, 80, 160]  # gamma = 0.2, 0.5, 0.7, 1.5, 2, 4
    risk = simulate_excess_risk(n, widths, [noise], signal=1.0, num_seeds=600, seed=11, device="cpu")[:, 0]  # (S, W)
    mean, se = risk.mean(0).numpy(), (risk.std(0) / np.sqrt(risk.shape[0])).numpy()
    exact = theory.ridgeless_risk_finite(n, widths, 1.0, noise)
    if noise == 0:  # gamma < 1 with no noise: exact recovery
        assert np.allclose(mean[:3], 0, atol=1e-20)
        over = slice(3, None)
        assert (np.abs(mean[over] - exact[over]) < Z_LIMIT * se[over]).all()
    else:
        assert (np.abs(mean - exact) < Z_LIMIT * se).all(), np.abs(mean - exact) / se


def test_ridge_asymptotic_risk_matches_monte_carlo():
    n, gammas, signal, noise = 200, np.array([0.5, 1.0, 2.0]), 1.0, 0.5
    widths = (gammas * n).astype(int)
    lam = np.stack([theory.optimal_ridge(gammas, signal, noise), np.full(3, 0.05)])[:, None, :]  # (2, 1, W)
    risk = simulate_excess_risk(n, widths, [noise], signal, ridge=torch.from_numpy(lam), num_seeds=100, seed=5, device="cpu")
    mean, se = risk.mean(0)[:, 0].numpy(), (risk.std(0)[:, 0] / 10).numpy()  # (2, W)
    want = theory.ridge_risk(gammas, lam[:, 0, :], signal, noise)
    # 4 standard errors plus 3% for the O(1/sqrt(n)) gap between n = 200 and the limit
    assert (np.abs(mean - want) < Z_LIMIT * se + 0.03 * want).all(), (mean, want, se)
