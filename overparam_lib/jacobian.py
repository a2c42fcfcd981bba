"""The Jacobian of a network's outputs on the training set, and the residual split along it.

Gradient descent on ``L(theta) = ||f(theta) - y||^2 / 2`` moves the outputs by
``-eta J J^T r``, with ``J`` the ``n x P`` Jacobian of the n outputs in the P parameters and
``r = f(theta) - y`` the residual. Along the top singular directions of ``J`` (in output
space: its top left singular vectors, the eigenvectors of ``J J^T``) the residual shrinks
fast; along the rest, slowly. With clusterable data the top ``K`` directions carry the
cluster structure (the "information space") and the label corruption sits mostly in the
rest {cite}`LiGradient2020`.

The Jacobian is computed with ``torch.func`` (``vmap`` over examples of ``jacrev``), one
batched computation rather than a loop over examples.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import jacrev, vmap

from overparam_lib.errors import ParameterError, check_int


def jacobian(output: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], params: torch.Tensor,
             X: torch.Tensor) -> torch.Tensor:
    """``J[i, j] = d output(params, X[i]) / d params.flatten()[j]``.

    Args:
        output: ``output(params, x)`` -> a scalar, for one example ``x``.
        params: the parameters (any shape).
        X: (n, ...) examples.

    Returns:
        (n, params.numel()) Jacobian.
    """
    per_example = vmap(jacrev(output), in_dims=(None, 0))(params, X)  # (n, *params.shape)
    return per_example.reshape(X.shape[0], -1)


def information_space(J: torch.Tensor, k: int) -> torch.Tensor:
    """An orthonormal basis (n, k) of the span of the top ``k`` left singular vectors of ``J`` (n, P)."""
    check_int("k", k)
    if J.ndim != 2 or k > min(J.shape):
        raise ParameterError("k", k, f"at most min(n, P) = {min(J.shape) if J.ndim == 2 else '?'} (J: n x P)")
    U, _, _ = torch.linalg.svd(J, full_matrices=False)
    return U[:, :k]


def split_residual(basis: torch.Tensor, residual: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Norms of the residual's projection on the span of ``basis`` (n, k) and on its complement.

    Args:
        basis: (n, k) orthonormal columns.
        residual: (..., n) residuals.

    Returns:
        ``(in_span, in_complement)``, each (...); their squares sum to ``||residual||^2``.
    """
    if residual.shape[-1] != basis.shape[0]:
        raise ParameterError("residual.shape", tuple(residual.shape), f"(..., {basis.shape[0]}) to match the basis")
    coefficients = residual @ basis  # (..., k)
    in_span = coefficients.norm(dim=-1)
    rest = residual - coefficients @ basis.mT
    return in_span, rest.norm(dim=-1)
