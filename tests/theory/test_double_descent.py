"""The double descent chapter's closed forms against numerical integration, optimization, known limits and Monte Carlo."""

import numpy as np
import pytest
import torch
from scipy import integrate, optimize

from overparam_lib import ParameterError
from overparam_lib.linear import simulate_excess_risk
from overparam_lib.random_features import simulate_random_features
from overparam_lib.theory import double_descent as theory


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


# Mei and Montanari's random-features risk.

_, MU1, MU_STAR2 = theory.ACTIVATION_MOMENTS["relu"]
ZETA2 = MU1**2 / MU_STAR2

# Finite-d error of the asymptotic formula, measured at psi2 = 3, psi1/psi2 in {0.5, 2, 10}:
# |relative error| <= 5% for tau^2 = 0 and up to +13% / +5% (d = 100 / 200) for tau^2 = 1 at
# psi1 = 10 psi2, shrinking like 1/d. At d = 100 with tau^2 <= 0.1 it stays below ~7%; 30 seeds
# give a standard error of ~2% (per-seed relative sd ~0.1-0.15). Away from the peak psi1 = psi2
# a relative tolerance of 15% therefore holds, while a wrong formula or scaling (a factor in
# zeta, ridge or ||beta||) moves the risk by far more.
RTOL_MC = 0.15


def test_ridgeless_risk_matches_monte_carlo():
    d, psi2 = 100, 3.0
    ratios = np.array([0.25, 0.5, 2.0, 10.0])  # psi1 / psi2, both sides of the interpolation peak
    widths = [round(r * psi2 * d) for r in ratios]
    noise = [0.0, 0.1]
    risk = simulate_random_features(d, round(psi2 * d), widths, noise=noise, n_test=1000, num_seeds=30, device="cpu")
    mc = risk["risk"].mean(0).numpy()  # (L, W)
    for li, tau2 in enumerate(noise):
        predicted = theory.random_features_ridgeless_risk(np.array(widths) / d, psi2, noise=tau2)
        np.testing.assert_allclose(mc[li], predicted, rtol=RTOL_MC, err_msg=f"noise = {tau2}")


def test_nonlinear_target_part_matches_monte_carlo():
    d, psi2, fstar2 = 100, 3.0, 0.2
    widths = [150, 600, 3000]  # psi1 / psi2 = 0.5, 2, 10
    risk = simulate_random_features(d, 300, widths, nonlinear_signal=fstar2, n_test=1000, num_seeds=15, seed=100)
    predicted = theory.random_features_ridgeless_risk(np.array(widths) / d, psi2, nonlinear_signal=fstar2)
    np.testing.assert_allclose(risk["risk"].mean(0)[0].numpy(), predicted, rtol=RTOL_MC)


@pytest.mark.parametrize("psi2", [0.5, 3.0, 10.0])
@pytest.mark.parametrize(("noise", "fstar2"), [(0.0, 0.0), (0.3, 0.0), (0.1, 0.2)])
def test_wide_limit_is_ridgeless_kernel_regression(psi2, noise, fstar2):
    """psi1 -> inf: kernel ``mu_1^2 <x, x'>/d + mu_*^2 delta`` on the linear target = ridge regression.

    Ridgeless kernel regression with that kernel is ridge regression on ``x`` with penalty
    ``(mu_*^2/mu_1^2) d ||b||^2``, i.e. ``n*lambda = d/zeta^2``: ``gamma = d/n = 1/psi2`` and
    ``lambda = 1/(psi2 zeta^2)``; F*^2 acts as label noise and adds F*^2 to the test risk.
    """
    wide = theory.random_features_ridgeless_risk(1e7 * psi2, psi2, 1.0, noise, fstar2)
    kernel = theory.ridge_risk(1 / psi2, 1 / (psi2 * ZETA2), 1.0, noise + fstar2) + fstar2
    assert wide == pytest.approx(kernel, rel=1e-5)


@pytest.mark.parametrize("psi1", [0.3, 1.0, 3.0, 10.0])
def test_large_sample_limit_is_approximation_error(psi1):
    """psi2 -> inf: the best fit of ``<beta, x>`` by N = psi1 d features; noise no longer matters.

    With features ``mu_1 <theta, x>/sqrt(d) + mu_* z`` the population least squares error is
    ``F1^2 tr((I + zeta^2 A)^{-1})/d`` with ``A = Theta^T Theta / d``, whose spectrum is psi1 times
    Marchenko-Pastur with ratio ``d/N = 1/psi1``: ``F1^2 m(-1/(zeta^2 psi1)) / (zeta^2 psi1)``.
    """
    m, _ = theory.marchenko_pastur_stieltjes(-1 / (ZETA2 * psi1), 1 / psi1)
    limit = theory.random_features_ridgeless_risk(psi1, 1e7 * psi1, 1.0, 0.5)
    assert limit == pytest.approx(m / (ZETA2 * psi1), rel=1e-5)


def test_underparameterized_variance_is_least_squares_variance():
    """For N < n min-norm is least squares on N features: ``V = N/(n - N)``, as for Gaussian designs."""
    psi1, psi2 = np.array([0.1, 0.5, 1.0, 2.9]), np.array([0.2, 3.0, 5.0, 3.0])
    _, variance = theory.random_features_ridgeless_bias_variance(psi1, psi2)
    np.testing.assert_allclose(variance, theory.ridgeless_risk(psi1 / psi2, signal=0.0, noise=1.0), rtol=1e-10)


def test_risk_is_infinite_at_the_interpolation_threshold_and_decreases_past_it():
    psi1 = np.array([0.5, 0.99, 1.0, 1.01, 2.0, 10.0]) * 3.0
    for noise in [0.0, 0.1]:
        risk = theory.random_features_ridgeless_risk(psi1, 3.0, noise=noise)
        assert np.isinf(risk[2]) and np.isfinite(np.delete(risk, 2)).all()
        assert risk[1] > 10 * risk[0] and risk[3] > risk[4] > risk[5]
    assert theory.random_features_ridgeless_risk(3.0, 3.0, signal=0.0) == 0.0  # nothing to learn, no noise


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: theory.random_features_ridgeless_risk(0.0, 3.0), "psi1"),
        (lambda: theory.random_features_ridgeless_risk([1.0, np.nan], 3.0), "psi1"),
        (lambda: theory.random_features_ridgeless_risk(1.0, [3.0, np.inf]), "psi2"),
        (lambda: theory.random_features_ridgeless_risk(1.0, -3.0), "psi2"),
        (lambda: theory.random_features_ridgeless_risk(1.0, 3.0, noise=-0.1), "noise"),
        (lambda: theory.random_features_ridgeless_risk(1.0, 3.0, nonlinear_signal=-1), "nonlinear_signal"),
        (lambda: theory.random_features_ridgeless_risk(1.0, 3.0, activation="tanh"), "activation"),
    ],
)
def test_bad_arguments_raise_parameter_error_naming_the_parameter(call, name):
    with pytest.raises(ParameterError, match=rf"^{name} = "):
        call()
