"""ReLU networks in the neural-tangent parameterization, their empirical NTK, and the kernel predictors they approach.

A network here is a list of weight matrices ``W_1 (m_1, d), W_2 (m_2, m_1), ..., W_{L+1} (1, m_L)``
with i.i.d. N(0, 1) entries and no biases, computing

    h_1 = W_1 x,    h_{l+1} = W_{l+1} relu(h_l) / sqrt(m_l),    f(x) = h_{L+1}

{cite}`JacotNeural2018`: the first layer is not divided by sqrt(d), so for two layers
``f(x) = m^{-1/2} sum_r a_r relu(w_r . x)`` and the infinite-width kernel is the arc-cosine
form of :mod:`overparam_lib.theory.wide_networks`. Every weight has a leading batch shape
(one network per seed, say), so one call runs many networks.

The empirical NTK ``Theta(x, x') = J(x) J(x')^T`` (J the gradient of f in all weights) is
computed with ``torch.func``: ``vmap`` over examples of ``jacrev``, contracted layer by
layer, never a Python loop over examples. As the widths grow, gradient descent on
``||f(X) - y||^2 / (2n)`` keeps the kernel nearly fixed, and the trained network
approaches its linearization at initialization {cite}`LeeWide2019`, whose predictions
are :func:`linearized_predictions`; after infinitely many steps they are
:func:`kernel_regression` started from the initial function ``f_0``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch.func import jacrev, vmap

from overparam_lib.errors import ParameterError, check_int, check_real

Weights = list[torch.Tensor]


def init_network(input_dim: int, widths: Sequence[int], batch: Sequence[int] = (), *, seed: int = 0,
                 antisymmetric: bool = False, dtype: torch.dtype = torch.float64, device=None) -> Weights:
    """N(0, 1) weights of networks with hidden ``widths``, one per index of ``batch``.

    ``antisymmetric`` is the doubling trick of {cite:t}`ChizatLazy2019` for one hidden layer:
    the second half of the hidden units repeats the first half's input weights with the
    output weights negated, so ``f_0(x) = 0`` for every ``x`` and the kernel is that of the
    first half alone. (With more hidden layers the twins' gradients in the earlier layers
    would cancel; the trick then needs two whole copies of the network.) It needs an even width. Drawn on the CPU from ``seed`` and moved, so a seed gives the same
    networks on every device.
    """
    check_int("input_dim", input_dim)
    if not isinstance(widths, (list, tuple)) or not widths:
        raise ParameterError("widths", widths, "a non-empty list of hidden widths")
    for w in widths:
        check_int("widths", w)
    if antisymmetric and (len(widths) != 1 or widths[0] % 2):
        raise ParameterError("widths", widths, "one even hidden width (antisymmetric halves)")
    g = torch.Generator().manual_seed(seed)
    sizes = [input_dim, *widths, 1]
    weights = [torch.randn(*batch, fan_out, fan_in, generator=g, dtype=dtype)
               for fan_in, fan_out in zip(sizes[:-1], sizes[1:])]
    if antisymmetric:
        half = widths[-1] // 2
        weights[0][..., half:, :] = weights[0][..., :half, :]
        weights[1][..., half:] = -weights[1][..., :half]
    return [W.to(device) for W in weights]


def network_output(weights: Weights, X: torch.Tensor) -> torch.Tensor:
    """``f(X)``: weights with batch shape B, X (n, d) -> (*B, n)."""
    h = X @ weights[0].mT
    for W in weights[1:]:
        h = torch.relu(h) @ W.mT / math.sqrt(W.shape[-1])
    return h.squeeze(-1)


def num_parameters(weights: Weights) -> int:
    """Parameters of one network (batch dimensions excluded)."""
    return sum(W.shape[-2] * W.shape[-1] for W in weights)


def empirical_ntk(weights: Weights, X1: torch.Tensor, X2: torch.Tensor | None = None) -> torch.Tensor:
    """``Theta[i, j] = <df(X1[i])/dtheta, df(X2[j])/dtheta>`` for one network (no batch dimensions): (n1, n2).

    ``jacrev`` gives each example's gradient in every weight, ``vmap`` batches it over the
    examples, and the kernel is the sum over weight matrices of ``J_W(X1) J_W(X2)^T``.
    """
    def output(ws, x):
        return network_output(list(ws), x[None])[0]

    per_example = vmap(jacrev(output), in_dims=(None, 0))
    J1 = per_example(tuple(weights), X1)
    J2 = J1 if X2 is None else per_example(tuple(weights), X2)
    return sum(a.flatten(1) @ b.flatten(1).T for a, b in zip(J1, J2))


def batched_empirical_ntk(weights: Weights, X1: torch.Tensor, X2: torch.Tensor | None = None,
                          chunk_size: int | None = 1) -> torch.Tensor:
    """:func:`empirical_ntk` of every network in a batch (one leading batch dimension): (S, n1, n2).

    ``vmap`` runs ``chunk_size`` networks at a time (None: all at once); the Jacobians of a
    chunk hold ``chunk_size * (n1 + n2) * P`` numbers, so one at a time keeps wide networks in memory.
    """
    return vmap(empirical_ntk, in_dims=(0, None, None), chunk_size=chunk_size)(weights, X1, X2)


def relative_change(new: torch.Tensor, old: torch.Tensor, dims: int = 2) -> torch.Tensor:
    """``||new - old|| / ||old||`` (Frobenius) over the last ``dims`` dimensions."""
    axes = tuple(range(-dims, 0))
    return torch.linalg.vector_norm(new - old, dim=axes) / torch.linalg.vector_norm(old, dim=axes)


def weights_change(new: Weights, old: Weights) -> torch.Tensor:
    """``||theta - theta_0|| / ||theta_0||`` over all weights, per network of the batch."""
    num = sum((a - b).pow(2).sum((-2, -1)) for a, b in zip(new, old))
    den = sum(b.pow(2).sum((-2, -1)) for b in old)
    return (num / den).sqrt()


def kernel_regression(K_train: torch.Tensor, K_test_train: torch.Tensor, y: torch.Tensor,
                      f0_train: torch.Tensor | None = None, f0_test: torch.Tensor | None = None) -> torch.Tensor:
    """Where gradient flow on the linearized network ends: ``f0(x) + K(x, X) K(X, X)^{-1} (y - f0(X))``.

    Without ``f0`` it is plain kernel regression. K_train (..., n, n) positive definite;
    K_test_train (..., n_test, n); y (n,); f0_train (..., n); f0_test (..., n_test).
    """
    if (f0_train is None) != (f0_test is None):
        raise ParameterError("f0_train, f0_test", (f0_train is None, f0_test is None), "both given or both None")
    residual = y if f0_train is None else y - f0_train
    L = torch.linalg.cholesky(K_train)
    coefficients = torch.cholesky_solve(residual.unsqueeze(-1), L)
    prediction = (K_test_train @ coefficients).squeeze(-1)
    return prediction if f0_test is None else f0_test + prediction


def linearized_predictions(K_train: torch.Tensor, K_test_train: torch.Tensor, y: torch.Tensor,
                           f0_train: torch.Tensor, f0_test: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    """Test predictions of the linearized network after ``steps`` of gradient descent on ``||f - y||^2 / (2n)``.

    The model ``f_lin(theta) = f_0 + J_0 (theta - theta_0)`` with kernel ``K = J_0 J_0^T``: its
    train residual evolves as ``r_t = (I - lr K/n)^t r_0``, and the test predictions move by
    ``-K(x, X) K^{-1} (r_0 - r_t)`` {cite}`LeeWide2019`. Computed in the eigenbasis of K
    (..., n, n), so the number of steps costs nothing.
    """
    check_real("lr", lr, strict=True)
    check_int("steps", steps, minimum=0)
    n = K_train.shape[-1]
    eigenvalues, V = torch.linalg.eigh(K_train)
    r0 = (V.mT @ (f0_train - y).unsqueeze(-1)).squeeze(-1)  # residual at init, eigenbasis
    decayed = 1 - (1 - lr * eigenvalues / n) ** steps  # fraction of each component removed
    if (lr * eigenvalues / n).amax() >= 2:
        raise ParameterError("lr", lr, f"below 2 n / lambda_max(K) = {float(2 * n / eigenvalues.amax()):.3g} (larger diverges)")
    move = V @ (decayed / eigenvalues * r0).unsqueeze(-1)  # K^{-1} (r_0 - r_t)
    return f0_test - (K_test_train @ move).squeeze(-1)
