"""Lazy and rich training of the networks of :mod:`overparam_lib.ntk`: the output scale alpha of Chizat, Oyallon & Bach.

{cite:t}`ChizatLazy2019` train the model ``h(theta, x) = alpha (f(theta, x) - f(theta_0, x))`` on the
loss ``||h(X) - y||^2 / (2 n alpha^2)``. At initialization a gradient step moves ``h`` by the
same amount for every alpha, but the weights move ``1/alpha`` times as far: a large alpha
fits the data before the kernel can change (lazy training, a kernel method), a small alpha
moves the weights, and the features, a long way (rich, or feature-learning, training).
``center=False`` keeps ``f_0`` in the model, as in ordinary training.

Many networks (a batch of seeds) train as one: their losses are summed, so each one's
gradient is its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from overparam_lib.errors import ParameterError, check_int, check_real
from overparam_lib.ntk import Weights, network_output


def scaled_output(weights: Weights, X: torch.Tensor, alpha: float | torch.Tensor,
                  f0: torch.Tensor | None) -> torch.Tensor:
    """``alpha (f(X) - f0)``, or ``alpha f(X)`` when ``f0`` is None: (*B, n); a tensor alpha has shape B."""
    f = network_output(weights, X)
    alpha = alpha[..., None] if torch.is_tensor(alpha) else alpha
    return alpha * (f if f0 is None else f - f0)


def gradient_descent(weights0: Weights, X: torch.Tensor, y: torch.Tensor, *, lr: float, steps: int,
                     alpha: float | torch.Tensor = 1.0, center: bool = False,
                     record_steps: Sequence[int] = ()) -> tuple[Weights, dict[str, torch.Tensor]]:
    """Full-batch gradient descent on ``||alpha (f - [center] f_0) - y||^2 / (2 n alpha^2)`` for a batch of networks.

    Args:
        weights0: initial weights, batch shape B (one network per entry).
        X: (n, d) inputs; y: (n,) targets.
        lr: step size; steps: gradient steps.
        alpha: output scale (> 0): a number, or a tensor of batch shape B (one scale per network).
        center: subtract the initial function ``f_0``.
        record_steps: steps (0..steps) at which the train loss ``||h - y||^2 / (2n)`` is recorded.

    Returns:
        The final weights, and ``{"steps": (R,), "loss": (R, *B)}``.
    """
    check_real("lr", lr, strict=True)
    check_int("steps", steps, minimum=0)
    if torch.is_tensor(alpha):
        if alpha.shape != weights0[0].shape[:-2] or not bool((alpha > 0).all()):
            raise ParameterError("alpha", tuple(alpha.shape), f"positive scales of the batch shape {tuple(weights0[0].shape[:-2])}")
    else:
        check_real("alpha", alpha, strict=True)
    record = sorted(set(record_steps))
    if record and (record[0] < 0 or record[-1] > steps):
        raise ParameterError("record_steps", record_steps, f"steps in 0..{steps}")
    with torch.no_grad():
        f0 = network_output(weights0, X) if center else None
    weights = [W.detach().clone().requires_grad_(True) for W in weights0]
    n = X.shape[0]
    losses = []
    for t in range(steps + 1):
        residual = scaled_output(weights, X, alpha, f0) - y
        loss = residual.pow(2).sum(-1) / (2 * n)  # (*B,), the loss of h, before the 1/alpha^2
        if t in record:
            losses.append(loss.detach())
        if t == steps:
            break
        grad = torch.autograd.grad((loss / alpha**2).sum(), weights)
        with torch.no_grad():
            for W, g in zip(weights, grad):
                W -= lr * g
    history = {"steps": torch.tensor(record), "loss": torch.stack(losses) if losses else torch.empty(0)}
    return [W.detach() for W in weights], history


def permute_hidden(weights: Weights, layer: int, permutation: torch.Tensor) -> Weights:
    """The same function with hidden layer ``layer`` (0-based) relabelled: rows of W_l and columns of W_{l+1} permuted."""
    check_int("layer", layer, minimum=0)
    if layer >= len(weights) - 1:
        raise ParameterError("layer", layer, f"a hidden layer, 0..{len(weights) - 2}")
    width = weights[layer].shape[-2]
    if sorted(permutation.tolist()) != list(range(width)):
        raise ParameterError("permutation", permutation.tolist() if width <= 16 else "...", f"a permutation of 0..{width - 1}")
    permuted = list(weights)
    permuted[layer] = weights[layer][..., permutation, :]
    permuted[layer + 1] = weights[layer + 1][..., :, permutation]
    return permuted


def subspace_alignment(first_layer: torch.Tensor, output_layer: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    """How much of a two-layer network's first layer lies in the span of ``basis`` (k, d), orthonormal rows.

    The mean over hidden units of ``||P w_r|| / ||w_r||`` (P the projection on the span),
    weighted by ``|a_r| ||w_r||``, each unit's share of the output's scale: about
    ``sqrt(k / d)`` for random weights in d dimensions, 1 when every unit that matters lies
    in the span. first_layer (*B, m, d), output_layer (*B, 1, m) -> (*B,).
    """
    norms = first_layer.norm(dim=-1)
    in_span = (first_layer @ basis.T).norm(dim=-1) / norms
    weight = output_layer[..., 0, :].abs() * norms
    return (weight * in_span).sum(-1) / weight.sum(-1)
