"""Random-features regression: nested min-norm and ridge fits against NumPy, the simulation, bad arguments.

The Mei-Montanari closed form it is checked against is tested in ``tests/theory/test_double_descent.py``."""

import numpy as np
import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.device import generator
from overparam_lib.random_features import (
    fit_nested,
    relu_features,
    simulate_random_features,
    sphere,
)

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
