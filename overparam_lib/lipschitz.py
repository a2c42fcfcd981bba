"""A lower bound on a network's Lipschitz constant: the largest input gradient found on the sphere.

For a differentiable-almost-everywhere ``f: R^d -> R``, every ``||grad_x f(x)||`` is at
most ``Lip(f)``, so the largest one found is a lower bound; more search can only raise
it. The search runs gradient ascent on ``||grad_x g(x)||^2`` over the unit sphere from many
random starts, where ``g`` is a smooth stand-in for ``f``: for a ReLU network the input
gradient is piecewise constant, its own gradient zero almost everywhere, so ascent on it
would not move. The bound reported is always ``f``'s own gradient norm at the points
visited, never the stand-in's.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from overparam_lib.device import generator
from overparam_lib.errors import ParameterError, check_int, check_real

Function = Callable[[torch.Tensor], torch.Tensor]  # (N, d) -> (N,)


def input_gradient_norms(f: Function, X: torch.Tensor) -> torch.Tensor:
    """``||grad_x f(x)||`` at each row of ``X`` (N, d), for ``f`` mapping (N, d) to (N,) row by row."""
    X = X.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(f(X).sum(), X)
    return grad.norm(dim=1)


def lipschitz_lower_bound(
    f: Function, dim: int, num_restarts: int = 64, steps: int = 100, lr: float = 0.05,
    smooth: Function | None = None, seed: int = 0, device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> dict[str, torch.Tensor]:
    """The largest ``||grad_x f||`` found by projected gradient ascent on the unit sphere.

    Args:
        f: the network, (N, d) -> (N,).
        dim: d.
        num_restarts: random starting points, uniform on the sphere.
        steps: ascent steps from each.
        lr: step size on ``||grad g||^2`` (the step is normalized to ``lr`` times the
            point's norm, so it does not depend on the network's scale).
        smooth: ``g``, a smooth stand-in whose gradient drives the search (default: ``f``).
        seed: seeds the starting points.
        device: where ``f`` computes.
        dtype: of the points (``f``'s parameters' dtype).

    Returns:
        Dict of CPU tensors: ``per_restart`` (num_restarts,), the best gradient norm of ``f``
        along each path; ``by_restarts`` (num_restarts,), the bound from the first r restarts
        (its running maximum: how it converges); ``bound``, the largest of all; ``start``
        (num_restarts,), ``f``'s gradient norm at the random starts (the search's baseline).
    """
    check_int("dim", dim)
    check_int("num_restarts", num_restarts)
    check_int("steps", steps, minimum=0)
    check_real("lr", lr, strict=True)
    smooth = smooth or f
    X = torch.randn(num_restarts, dim, generator=generator(seed), dtype=dtype).to(device)
    X = X / X.norm(dim=1, keepdim=True)
    start = input_gradient_norms(f, X)
    best = start.clone()
    for _ in range(steps):
        X = X.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(smooth(X).sum(), X, create_graph=True)
        if not grad.requires_grad:  # the gradient does not depend on x (a linear map): nowhere to climb
            break
        (ascent,) = torch.autograd.grad((grad**2).sum(), X)
        ascent = ascent - (ascent * X).sum(1, keepdim=True) * X  # along the sphere
        step = ascent / ascent.norm(dim=1, keepdim=True).clamp_min(1e-30)
        with torch.no_grad():
            X = X + lr * step
            X = X / X.norm(dim=1, keepdim=True)
        best = torch.maximum(best, input_gradient_norms(f, X))
    if not torch.isfinite(best).all():
        raise ParameterError("f", "a function with non-finite input gradients", "a function finite on the sphere")
    best = best.detach().cpu()
    return {"per_restart": best, "by_restarts": best.cummax(0).values, "bound": best.max(),
            "start": start.detach().cpu()}
