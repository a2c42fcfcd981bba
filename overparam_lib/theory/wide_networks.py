"""Closed forms of the wide-network chapter: the infinite-width kernels of deep ReLU networks.

For the networks of :mod:`overparam_lib.ntk` (N(0, 1) weights, no biases, every layer after
the first divided by the square root of its fan-in) the pre-activations of layer ``l`` tend
to a Gaussian process with covariance ``Sigma_l`` and the NTK to ``Theta_l``
{cite}`JacotNeural2018,AroraExact2019`:

    Sigma_1(x, x') = Theta_1(x, x') = x . x',
    Sigma_{l+1} = E[relu(u) relu(v)],   Sigmadot_{l+1} = E[relu'(u) relu'(v)],   (u, v) ~ N(0, Sigma_l on {x, x'}),
    Theta_{l+1} = Theta_l Sigmadot_{l+1} + Sigma_{l+1}.

For ReLU both expectations are arc-cosine kernels {cite}`ChoKernel2009`: with
``cos theta = Sigma_l(x, x') / sqrt(Sigma_l(x, x) Sigma_l(x', x'))``,

    E[relu(u) relu(v)] = sqrt(Sigma_l(x, x) Sigma_l(x', x')) (sin theta + (pi - theta) cos theta) / (2 pi),
    E[relu'(u) relu'(v)] = (pi - theta) / (2 pi).

One hidden layer gives the two-layer kernel
``Theta(x, x') = x.x' (pi - theta)/(2 pi) + |x||x'| (sin theta + (pi - theta) cos theta)/(2 pi)``.
(neural-tangents' ``Dense`` divides the first layer by sqrt(d) too: its kernels are these
at ``x / sqrt(d)``.) Arora et al. multiply each layer by ``c_sigma = 2``; we do not, so each
ReLU layer halves the diagonal.

The output ``f_0`` at initialization is the Gaussian process with covariance ``Sigma_{L+1}``,
so gradient flow's end point ``f_0(x) + Theta(x, X) Theta^{-1} (y - f_0(X))`` is random: its
covariance {cite}`LeeWide2019` is :func:`trained_output_variance`.
"""

from __future__ import annotations

import math

import torch

from overparam_lib.errors import check_int


def _relu_expectations(cross: torch.Tensor, diag1: torch.Tensor, diag2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``E[relu(u) relu(v)]`` and ``E[relu'(u) relu'(v)]`` for ``(u, v)`` centred Gaussian with the given (co)variances."""
    scale = (diag1[:, None] * diag2[None, :]).sqrt()
    cosine = (cross / scale).clamp(-1.0, 1.0)
    theta = torch.arccos(cosine)
    values = scale * (torch.sin(theta) + (math.pi - theta) * cosine) / (2 * math.pi)
    derivatives = (math.pi - theta) / (2 * math.pi)
    return values, derivatives


def relu_kernels(X1: torch.Tensor, X2: torch.Tensor | None = None, depth: int = 1) -> dict[str, torch.Tensor]:
    """The infinite-width NNGP kernel (``"nngp"``, the covariance of ``f_0``) and NTK (``"ntk"``) of a ReLU net.

    Args:
        X1: (n1, d), X2: (n2, d) inputs (X2 defaults to X1).
        depth: L, the number of hidden layers.

    Returns:
        ``{"nngp": Sigma_{L+1}(X1, X2), "ntk": Theta_{L+1}(X1, X2)}``, each (n1, n2).
    """
    check_int("depth", depth)
    X2 = X1 if X2 is None else X2
    cross = X1 @ X2.T
    diag1, diag2 = (X1 * X1).sum(1), (X2 * X2).sum(1)
    ntk = cross
    for _ in range(depth):
        cross, derivative = _relu_expectations(cross, diag1, diag2)
        diag1, diag2 = diag1 / 2, diag2 / 2  # E[relu(u)^2] = var(u) / 2
        ntk = ntk * derivative + cross
    return {"nngp": cross, "ntk": ntk}


def two_layer_ntk(X1: torch.Tensor, X2: torch.Tensor | None = None) -> torch.Tensor:
    """The two-layer closed form, written out: ``x.x' (pi - theta)/(2 pi) + |x||x'| (sin theta + (pi - theta) cos theta)/(2 pi)``."""
    X2 = X1 if X2 is None else X2
    norms = X1.norm(dim=1)[:, None] * X2.norm(dim=1)[None, :]
    cross = X1 @ X2.T
    theta = torch.arccos((cross / norms).clamp(-1.0, 1.0))
    return (cross * (math.pi - theta) + norms * (torch.sin(theta) + (math.pi - theta) * torch.cos(theta))) / (2 * math.pi)


def trained_output_variance(ntk_train: torch.Tensor, ntk_test_train: torch.Tensor, nngp_train: torch.Tensor,
                            nngp_test_train: torch.Tensor, nngp_test_diag: torch.Tensor) -> torch.Tensor:
    """Variance over initializations of ``f_0(x) + Theta(x, X) Theta^{-1} (y - f_0(X))`` at each test point: (n_test,).

    With ``A = Theta(x, X) Theta(X, X)^{-1}`` it is ``K(x, x) - 2 A K(X, x) + A K(X, X) A^T``, K the NNGP kernel.
    The targets do not enter: two networks trained from independent initializations differ
    by a centred Gaussian with twice this variance.
    """
    A = torch.linalg.solve(ntk_train, ntk_test_train.T).T  # (n_test, n)
    return nngp_test_diag - 2 * (A * nngp_test_train).sum(1) + ((A @ nngp_train) * A).sum(1)
