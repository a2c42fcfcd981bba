"""Membership inference against min-norm and ridge regression, by Monte Carlo {cite}`TanParameters2022`.

The setting of :mod:`overparam_lib.theory.benign_overfitting`: labels ``y = x^T beta + eps``
from ``D`` standard Gaussian features, ``beta ~ N(0, I_D/D)``, ``eps ~ N(0, sigma^2)``; a
model fits the first ``p`` features of ``n`` training examples. An attacker who sees the
model's prediction at a target ``x0`` guesses whether ``x0`` was one of the ``n``.

Each trial draws a training set, ``beta`` and the noise, and fits two models: one on the
training set (``x0`` is not a member) and one on the same set with its first example
replaced by ``(x0, y0)`` (a member). Both are kernel-form fits,
``f(x0) = x0[:p]^T X_p^T (X_p X_p^T + n lambda I)^{-1} y``, so every width costs one
batched ``n x n`` solve over all trials; ``lambda = 0`` is the min-norm interpolator,
defined here for ``p > n``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from overparam_lib.device import generator, resolve_device
from overparam_lib.errors import ParameterError, check_int, check_real


def simulate_membership(
    n_train: int,
    widths: Sequence[int],
    num_features: int,
    noise: float,
    num_trials: int,
    ridge: float = 0.0,
    seed: int = 0,
    device: str | torch.device = "auto",
) -> dict[str, torch.Tensor]:
    """Predictions at a fixed target ``x0`` of models that did and did not train on it.

    Args:
        n_train: n, training examples per model.
        widths: feature counts p used by the models (each ``<= num_features``; ``> n`` when ``ridge = 0``).
        num_features: D, the features that generate the labels.
        noise: sigma^2, the label-noise variance.
        num_trials: independent draws of training set, ``beta`` and noise.
        ridge: lambda >= 0 (penalty ``n lambda ||w||^2``, as in :mod:`overparam_lib.linear`).
        seed: seeds ``x0`` and every draw.
        device: where to compute (see :func:`~overparam_lib.device.resolve_device`).

    Returns:
        Dict of float64 CPU tensors: ``member`` and ``non_member`` (num_trials, W), the
        predictions; ``y0`` (num_trials,), the target's label in each trial; ``x0`` (D,).
    """
    check_int("n_train", n_train)
    check_int("num_features", num_features)
    check_real("noise", noise)
    check_int("num_trials", num_trials)
    check_real("ridge", ridge)
    widths = list(widths)
    low = n_train + 1 if ridge == 0 else 1
    if not widths or any(isinstance(p, bool) or not isinstance(p, int) or not low <= p <= num_features for p in widths):
        raise ParameterError("widths", widths, f"a non-empty list of integers in [{low}, {num_features}]"
                             + (" (min-norm interpolation needs p > n)" if ridge == 0 else ""))
    device = resolve_device(device)
    g = generator(seed)
    x0 = torch.randn(num_features, generator=g, dtype=torch.float64)
    X = torch.randn(num_trials, n_train, num_features, generator=g, dtype=torch.float64)
    beta = torch.randn(num_trials, num_features, generator=g, dtype=torch.float64) / num_features**0.5
    eps = noise**0.5 * torch.randn(num_trials, n_train + 1, generator=g, dtype=torch.float64)
    X, beta, eps, x0 = X.to(device), beta.to(device), eps.to(device), x0.to(device)
    y = (X @ beta.unsqueeze(-1)).squeeze(-1) + eps[:, 1:]
    y0 = beta @ x0 + eps[:, 0]
    X_member, y_member = X.clone(), y.clone()
    X_member[:, 0], y_member[:, 0] = x0, y0
    shift = n_train * ridge * torch.eye(n_train, dtype=torch.float64, device=device)

    def predict(X: torch.Tensor, y: torch.Tensor, p: int) -> torch.Tensor:
        Xp = X[..., :p]
        alpha = torch.linalg.solve(Xp @ Xp.mT + shift, y.unsqueeze(-1))  # (T, n, 1)
        return ((Xp @ x0[:p]).unsqueeze(-2) @ alpha).reshape(-1)  # k(x0)^T alpha

    member = torch.stack([predict(X_member, y_member, p) for p in widths], dim=1)
    non_member = torch.stack([predict(X, y, p) for p in widths], dim=1)
    return {"member": member.cpu(), "non_member": non_member.cpu(), "y0": y0.cpu(), "x0": x0.cpu()}


def threshold_advantage(member: torch.Tensor, non_member: torch.Tensor, threshold: torch.Tensor | float) -> torch.Tensor:
    """Advantage (true minus false positive rate) of the attack "member iff ``|f(x0)| < a``".

    Args:
        member, non_member: (T, ...) predictions of models that did and did not train on ``x0``.
        threshold: ``a``, broadcast against the trailing dimensions.

    Returns:
        (...) ``P(|f| < a | member) - P(|f| < a | non-member)``; negative where the better
        attack is the opposite rule (members predicted larger), whose advantage is its absolute value.
    """
    a = torch.as_tensor(threshold, dtype=member.dtype)
    return (member.abs() < a).double().mean(0) - (non_member.abs() < a).double().mean(0)


def best_threshold_advantage(member: torch.Tensor, non_member: torch.Tensor) -> torch.Tensor:
    """The largest ``|threshold_advantage|`` over every threshold (every observed ``|f|``), per column.

    This is the best attack of the form "compare ``|f(x0)|`` with a number", chosen with
    hindsight on the same draws: for min-norm regression it is the likelihood-ratio attack
    (both laws centred at zero), for ridge the best one of its kind. With ``T`` draws
    per law it overestimates the true value by about ``1/sqrt(T)``.
    """
    if member.shape != non_member.shape:
        raise ParameterError("non_member.shape", tuple(non_member.shape), f"the members' shape {tuple(member.shape)}")
    labels = torch.cat([torch.ones_like(member), -torch.ones_like(non_member)]) / member.shape[0]
    order = torch.cat([member, non_member]).abs().argsort(dim=0)
    running = torch.take_along_dim(labels, order, dim=0).cumsum(0)  # advantage of "member iff |f| <= t"
    return running.abs().amax(0)
