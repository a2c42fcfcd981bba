"""Random-features regression: Mei-Montanari ridgeless risk against Monte Carlo, known limits and NumPy."""

import numpy as np
import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.theory import double_descent as theory
from overparam_lib.device import generator
from overparam_lib.random_features import (
    fit_nested,
    relu_features,
    simulate_random_features,
    sphere,
)

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


def draw_features(n, N, m=7, d=5, seed=0):
    g = generator(seed)
    X, X_test, Theta = sphere(n, d, g), sphere(m, d, g), sphere(N, d, g)
    y = torch.randn(n, 3, generator=g, dtype=torch.float64)
    return relu_features(X, Theta), y, relu_features(X_test, Theta)


def test_nested_min_norm_fits_match_numpy_pinv():
    Z, Y, Z_test = draw_features(n=20, N=45)
    widths = [3, 19, 21, 45]  # under- and overparameterized around n = 20
    fits = fit_nested(Z, Y, Z_test, widths)
    Z_np, Y_np, Zt_np = Z.numpy(), Y.numpy(), Z_test.numpy()
    for w, N in enumerate(widths):
        a_hat = np.linalg.pinv(Z_np[:, :N]) @ Y_np  # (N, K)
        np.testing.assert_allclose(fits["y_hat"][w].numpy(), Zt_np[:, :N] @ a_hat, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(fits["norm"][w].numpy(), (a_hat**2).sum(0), rtol=1e-7)
        train_mse = ((Z_np[:, :N] @ a_hat - Y_np) ** 2).mean(0)
        np.testing.assert_allclose(fits["train_mse"][w].numpy(), train_mse, rtol=1e-7, atol=1e-12)
        smallest = np.linalg.svd(Z_np[:, :N], compute_uv=False)[min(20, N) - 1]  # the min(n, N)-th
        np.testing.assert_allclose(fits["min_singular"][w].item(), smallest, rtol=1e-9)
    assert (fits["train_mse"][2:] < 1e-20).all()  # N > n interpolates
    one = fit_nested(Z, Y[:, 1], Z_test, widths)  # 1-D y drops the K axis
    torch.testing.assert_close(one["y_hat"], fits["y_hat"][..., 1])


def test_ridge_fits_match_direct_solve():
    Z, Y, Z_test = draw_features(n=20, N=30)
    ridge = torch.tensor([0.01, 1.0])  # one per width
    fits = fit_nested(Z, Y, Z_test, [10, 30], ridge)
    for w, (N, lam) in enumerate(zip([10, 30], ridge.tolist())):
        Z_N = Z[:, :N].numpy()
        a_hat = np.linalg.solve(Z_N.T @ Z_N + 20 * lam * np.eye(N), Z_N.T @ Y.numpy())
        np.testing.assert_allclose(fits["y_hat"][w].numpy(), Z_test[:, :N].numpy() @ a_hat, rtol=1e-8)


def test_simulation_uses_the_papers_ridge_scaling():
    """One seed by hand: minimize ``(1/n)||y - Z a||^2 + (N/d) lambda ||a||^2`` with NumPy."""
    d, n, N, m, lam, tau2 = 6, 15, 10, 50, 0.3, 0.2
    got = simulate_random_features(d, n, [N], noise=[tau2], ridge=lam, n_test=m, num_seeds=1, seed=4, device="cpu")
    g = generator(4)  # the draws in the order simulate_random_features makes them
    X, X_test, Theta = sphere(n, d, g).numpy(), sphere(m, d, g).numpy(), sphere(N, d, g).numpy()
    beta = sphere(1, d, g)[0].numpy() / d**0.5
    sphere(1, d, g)  # direction of the (here absent) nonlinear part
    y = X @ beta + tau2**0.5 * torch.randn(n, generator=g, dtype=torch.float64).numpy()
    Z, Z_test = np.maximum(X @ Theta.T / d**0.5, 0), np.maximum(X_test @ Theta.T / d**0.5, 0)
    a_hat = np.linalg.solve(Z.T @ Z / n + N / d * lam * np.eye(N), Z.T @ y / n)
    assert got["risk"].item() == pytest.approx(np.mean((X_test @ beta - Z_test @ a_hat) ** 2), rel=1e-8)
    assert got["norm"].item() == pytest.approx(a_hat @ a_hat, rel=1e-8)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_gives_the_cpu_result():
    kwargs = {"d": 20, "n_train": 60, "widths": [30, 120], "noise": [0.0, 0.1], "n_test": 200, "num_seeds": 2}
    cpu, cuda = simulate_random_features(**kwargs, device="cpu"), simulate_random_features(**kwargs, device="cuda")
    torch.testing.assert_close(cuda["risk"], cpu["risk"], rtol=1e-7, atol=1e-10)


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
        (lambda: simulate_random_features(1, 10, [5]), "d"),
        (lambda: simulate_random_features(10, 0, [5]), "n_train"),
        (lambda: simulate_random_features(10, 10, []), "widths"),
        (lambda: simulate_random_features(10, 10, [5], noise=[-1.0]), "noise"),
        (lambda: simulate_random_features(10, 10, [5], ridge=-0.1), "ridge"),
        (lambda: fit_nested(*draw_features(10, 8), widths=[9]), "widths"),
        (lambda: fit_nested(*draw_features(10, 8)[:2], torch.zeros(3, 7), widths=[4]), "shapes"),
        (lambda: relu_features(torch.zeros(4, 3), torch.zeros(5, 2)), "Theta.shape"),
    ],
)
def test_bad_arguments_raise_parameter_error_naming_the_parameter(call, name):
    with pytest.raises(ParameterError, match=rf"^{name} = "):
        call()


def test_ridge_path_equals_one_fit_per_ridge_value():
    from overparam_lib.random_features import ridge_path

    g = torch.Generator().manual_seed(0)
    Z, Z_test = torch.randn(30, 50, generator=g, dtype=torch.float64), torch.randn(7, 50, generator=g, dtype=torch.float64)
    Y = torch.randn(30, 3, generator=g, dtype=torch.float64)
    ridges, widths = [0.0, 0.1, 1.0], [5, 29, 31, 50]
    path = ridge_path(Z, Y, Z_test, widths, ridges)  # (R, W, m, K)
    for r, lam in enumerate(ridges):
        torch.testing.assert_close(path[r], fit_nested(Z, Y, Z_test, widths, ridge=lam)["y_hat"], rtol=1e-10, atol=1e-10)
