"""ReLU random-features regression {cite}`MeiGeneralization2019`: min-norm fits for nested feature counts.

The model is ``f_hat(x) = sum_a a_a relu(<theta_a, x> / sqrt(d))`` with random, fixed
``theta_a`` and fitted second-layer weights ``a``: a two-layer network with a frozen
first layer. :func:`fit_nested` fits any feature matrices (e.g. ReLU features of
MNIST-1D); :func:`simulate_random_features` draws the synthetic setting of
{cite}`MeiGeneralization2019` and returns the risk that
:func:`overparam_lib.theory.double_descent.random_features_ridgeless_risk` predicts.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from tqdm import tqdm

from overparam_lib.device import generator, resolve_device
from overparam_lib.errors import ParameterError, check_int, check_real
from overparam_lib.linear import SVDLeastSquares, _similar_width_groups, nested_columns


def sphere(num: int, d: int, g: torch.Generator, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``num`` points uniform on the sphere of radius ``sqrt(d)`` in R^d, drawn on the CPU from ``g``: (num, d)."""
    z = torch.randn(num, d, generator=g, dtype=dtype)
    return z / z.norm(dim=-1, keepdim=True) * d**0.5


def relu_features(X: torch.Tensor, Theta: torch.Tensor) -> torch.Tensor:
    """Random features ``relu(X Theta^T / sqrt(d))``: X (n, d), Theta (N, d) -> (n, N)."""
    if X.shape[-1] != Theta.shape[-1]:
        raise ParameterError("Theta.shape", tuple(Theta.shape), f"(N, {X.shape[-1]}) to match X's d")
    return torch.relu(X @ Theta.mT / X.shape[-1] ** 0.5)  # (n, N)


def fit_nested(
    Z: torch.Tensor,
    y: torch.Tensor,
    Z_test: torch.Tensor,
    widths: Sequence[int],
    ridge: float | torch.Tensor = 0.0,
) -> dict[str, torch.Tensor]:
    """Least squares on the first ``N`` feature columns, for every ``N`` in ``widths``.

    Coefficients ``a_hat = (Z_N^T Z_N + n*ridge*I)^{-1} Z_N^T y``, the min-norm solution
    ``Z_N^+ y`` for ``ridge = 0`` (:class:`~overparam_lib.linear.SVDLeastSquares`), where
    ``Z_N`` keeps the first N columns of ``Z``: the models are nested, as if features were
    added one at a time. Widths of similar size share one zero-padded SVD batch.

    Args:
        Z: (n, N_max) training features.
        y: (n,) responses or (n, K) targets, e.g. one-hot labels; one fit per column.
        Z_test: (m, N_max) test features, the same columns as ``Z``.
        widths: W feature counts N, each in [1, N_max].
        ridge: lambda >= 0, a scalar or a (W,) tensor, one per width.

    Returns:
        Dict of tensors on ``Z``'s device: ``y_hat`` (W, m, K) test predictions, ``norm``
        (W, K) squared coefficient norms ``||a_hat||^2`` and ``train_mse`` (W, K), the K
        axis dropped when ``y`` is 1-D; and ``min_singular`` (W,), the smallest of the
        ``min(n, N)`` singular values of ``Z_N`` (0 would make ``Z_N`` rank-deficient).

    Example, MNIST-1D (:func:`overparam_lib.data.mnist1d`; standardize ``X`` first)::

        Theta = sphere(N_max, X.shape[1], generator(seed))  # (N_max, 40)
        Y = torch.nn.functional.one_hot(labels, 10).double()  # (n, 10)
        fits = fit_nested(relu_features(X, Theta), Y, relu_features(X_test, Theta), widths)
        test_error = (fits["y_hat"].argmax(-1) != labels_test).double().mean(-1)  # (W,)

    Each group of similar widths holds a (G, n, N) copy of ``Z``: mind memory for large n*N.
    """
    if Z.ndim != 2 or Z_test.ndim != 2 or Z_test.shape[1] != Z.shape[1] or y.ndim > 2 or len(y) != len(Z):
        shapes = f"Z {tuple(Z.shape)}, y {tuple(y.shape)}, Z_test {tuple(Z_test.shape)}"
        raise ParameterError("shapes", shapes, "Z (n, N_max), y (n,) or (n, K), Z_test (m, N_max)")
    widths = [int(N) for N in widths]
    nested_columns(Z[:1], widths)  # validates widths against N_max
    Y = (y[:, None] if y.ndim == 1 else y).to(Z.dtype)  # (n, K)
    ridge = torch.broadcast_to(torch.as_tensor(ridge, dtype=Z.dtype, device=Z.device), (len(widths),))
    W, K, m = len(widths), Y.shape[1], Z_test.shape[0]
    y_hat = torch.empty(W, K, m, dtype=Z.dtype, device=Z.device)
    norm = torch.empty(W, K, dtype=Z.dtype, device=Z.device)
    train_mse = torch.empty(W, K, dtype=Z.dtype, device=Z.device)
    min_singular = torch.empty(W, dtype=Z.dtype, device=Z.device)
    for group in _similar_width_groups(widths):
        p = max(widths[i] for i in group)
        Z_w = nested_columns(Z[:, :p], [widths[i] for i in group])  # (G, n, p)
        solver = SVDLeastSquares(Z_w)
        for g, i in enumerate(group):  # singular values are sorted; zero padding adds zeros after the rank
            min_singular[i] = solver.S[g, min(Z.shape[0], widths[i]) - 1]
        a_hat = solver.solve(Y.mT[:, None, :], ridge[group])  # (K, G, p)
        a_hat = a_hat.transpose(0, 1)  # (G, K, p)
        y_hat[group] = a_hat @ Z_test[:, :p].mT  # (G, K, m)
        norm[group] = (a_hat**2).sum(-1)
        train_mse[group] = ((a_hat @ Z_w.mT - Y.mT) ** 2).mean(-1)  # (G, K, n) -> (G, K)
    y_hat = y_hat.transpose(1, 2)  # (W, m, K)
    if y.ndim == 1:
        return {"y_hat": y_hat[..., 0], "norm": norm[:, 0], "train_mse": train_mse[:, 0], "min_singular": min_singular}
    return {"y_hat": y_hat, "norm": norm, "train_mse": train_mse, "min_singular": min_singular}


def _target(X: torch.Tensor, beta: torch.Tensor, u: torch.Tensor, nonlinear_signal: float) -> torch.Tensor:
    """``f(x) = <beta, x> + F* He2(<u, x>)``, the He2 part scaled to variance F*^2 on the sphere: (n,)."""
    d = X.shape[-1]
    t = X @ u  # (n,), <u, x> for a unit u: mean 0, variance 1
    he2_std = (2 * (d - 1) / (d + 2)) ** 0.5  # std of <u, x>^2 - 1 on the sphere of radius sqrt(d)
    return X @ beta + nonlinear_signal**0.5 * (t**2 - 1) / he2_std


def simulate_random_features(
    d: int,
    n_train: int,
    widths: Sequence[int],
    noise: Sequence[float] = (0.0,),
    signal: float = 1.0,
    nonlinear_signal: float = 0.0,
    ridge: float = 0.0,
    n_test: int = 1000,
    num_seeds: int = 10,
    seed: int = 0,
    device: str | torch.device = "auto",
    progress: bool = False,
) -> dict[str, torch.Tensor]:
    """Monte Carlo test risk of ReLU random-features regression in the setting of {cite}`MeiGeneralization2019`.

    For each seed: inputs ``x_i`` and weights ``theta_a`` uniform on the sphere of radius
    ``sqrt(d)`` (``N_max = max(widths)`` of them; the model with N features uses the first N),
    ``beta`` uniform on the sphere of squared radius ``signal`` (F1^2), a nonlinear part
    ``F* He2(<u, x>)`` of variance ``nonlinear_signal`` (F*^2) along a random unit ``u``, and
    ``y = f(x) + eps`` with ``Var(eps) = noise`` (tau^2; all noise levels share one draw).
    The fit minimizes ``(1/n)||y - Z a||^2 + (N/d) * ridge * ||a||^2`` (the paper's scaling of
    lambda; min-norm for ``ridge = 0``); the risk is ``E_x[(f(x) - f_hat(x))^2]`` on
    ``n_test`` fresh points, against the noiseless target as in the paper.

    Args:
        d: input dimension.
        n_train: samples n (psi2 = n/d).
        widths: W feature counts N (psi1 = N/d).
        noise: L label-noise variances tau^2 >= 0.
        signal: F1^2 = ||beta||^2.
        nonlinear_signal: F*^2, variance of the nonlinear part of the target.
        ridge: lambda >= 0 in the paper's scaling.
        n_test: test points per seed.
        num_seeds: independent draws S; draw s uses seed ``seed + s``.
        device: where to compute (see :func:`~overparam_lib.device.resolve_device`).
        progress: show a progress bar over seeds.

    Returns:
        Dict of CPU float64 tensors of shape (S, L, W): ``risk`` and ``norm`` (``||a_hat||^2``).
    """
    device = resolve_device(device)
    d, n_train = check_int("d", d, minimum=2), check_int("n_train", n_train)
    n_test, num_seeds = check_int("n_test", n_test), check_int("num_seeds", num_seeds)
    signal, ridge = check_real("signal", signal), check_real("ridge", ridge)
    nonlinear_signal = check_real("nonlinear_signal", nonlinear_signal)
    widths, noise = [int(N) for N in widths], [float(v) for v in noise]
    if not widths or min(widths) < 1:
        raise ParameterError("widths", widths, "a non-empty list of positive integers")
    if not noise or min(noise) < 0:
        raise ParameterError("noise", noise, "a non-empty list of variances >= 0")
    sigma = torch.tensor(noise, dtype=torch.float64).sqrt().to(device)  # (L,)
    ridge_w = ridge * torch.tensor(widths, dtype=torch.float64, device=device) / d  # (W,), paper's N/d scaling
    risks, norms = [], []
    for s in tqdm(range(num_seeds), desc="seeds", disable=not progress):
        g = generator(seed + s)
        X, X_test = sphere(n_train, d, g).to(device), sphere(n_test, d, g).to(device)  # (n, d), (m, d)
        Theta = sphere(max(widths), d, g).to(device)  # (N_max, d)
        beta = sphere(1, d, g)[0].to(device) * (signal / d) ** 0.5  # (d,), ||beta||^2 = signal
        u = sphere(1, d, g)[0].to(device) / d**0.5  # (d,), unit vector
        eps = torch.randn(n_train, generator=g, dtype=torch.float64).to(device)  # (n,)
        f, f_test = _target(X, beta, u, nonlinear_signal), _target(X_test, beta, u, nonlinear_signal)
        y = f[:, None] + eps[:, None] * sigma  # (n, L)
        fits = fit_nested(relu_features(X, Theta), y, relu_features(X_test, Theta), widths, ridge_w)
        risks.append(((fits["y_hat"] - f_test[:, None]) ** 2).mean(1).T.cpu())  # (W, m, L) -> (L, W)
        norms.append(fits["norm"].T.cpu())  # (L, W)
    return {"risk": torch.stack(risks), "norm": torch.stack(norms)}


def ridge_path(
    Z: torch.Tensor, y: torch.Tensor, Z_test: torch.Tensor, widths: Sequence[int], ridges: Sequence[float]
) -> torch.Tensor:
    """Test predictions of :func:`fit_nested` for every ridge value, from one SVD per width group.

    Args:
        Z, Z_test: (n, N_max) and (m, N_max) features; y: (n, K) targets.
        widths: W feature counts N.
        ridges: R values lambda >= 0 (penalty ``n * lambda * ||a||^2``; 0 is min-norm).

    Returns:
        (R, W, m, K) test predictions.
    """
    widths = [int(N) for N in widths]
    nested_columns(Z[:1], widths)  # validates widths against N_max
    ridges = torch.as_tensor(list(ridges), dtype=Z.dtype, device=Z.device)  # (R,)
    y_hat = torch.empty(len(ridges), len(widths), y.shape[1], Z_test.shape[0], dtype=Z.dtype, device=Z.device)
    for group in _similar_width_groups(widths):
        p = max(widths[i] for i in group)
        solver = SVDLeastSquares(nested_columns(Z[:, :p], [widths[i] for i in group]))  # (G, n, p) factored once
        a_hat = solver.solve(y.mT.to(Z.dtype)[:, None, None, :], ridges[:, None])  # (K, R, G, p)
        y_hat[:, group] = (a_hat @ Z_test[:, :p].mT).permute(1, 2, 0, 3)  # (K, R, G, m) -> (R, G, K, m)
    return y_hat.transpose(-1, -2)  # (R, W, m, K)
