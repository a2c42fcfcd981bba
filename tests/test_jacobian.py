"""The Jacobian by torch.func against torch.autograd.functional.jacobian and the closed form; the residual split."""

import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.jacobian import information_space, jacobian, split_residual


def one_hidden_layer(W: torch.Tensor, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    return torch.relu(W @ x) @ v


def test_jacobian_matches_autograd_and_the_relu_closed_form():
    g = torch.Generator().manual_seed(0)
    n, d, k = 7, 5, 6
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    W = torch.randn(k, d, generator=g, dtype=torch.float64)
    v = torch.randn(k, generator=g, dtype=torch.float64)
    J = jacobian(lambda W, x: one_hidden_layer(W, x, v), W, X)
    reference = torch.autograd.functional.jacobian(lambda W: torch.relu(X @ W.T) @ v, W).reshape(n, -1)
    torch.testing.assert_close(J, reference, rtol=0, atol=1e-12)
    # d f(x_i) / d W = (v * 1[W x_i > 0]) x_i^T
    closed = ((v * (X @ W.T > 0))[:, :, None] * X[:, None, :]).reshape(n, -1)
    torch.testing.assert_close(J, closed, rtol=0, atol=1e-12)


def test_information_space_and_residual_split():
    g = torch.Generator().manual_seed(1)
    J = torch.randn(10, 3, generator=g, dtype=torch.float64) @ torch.randn(3, 40, generator=g, dtype=torch.float64)
    basis = information_space(J, 3)  # rank 3: the basis spans J's column space
    torch.testing.assert_close(basis.T @ basis, torch.eye(3, dtype=torch.float64))
    in_span_vector = J @ torch.randn(40, generator=g, dtype=torch.float64)
    inside, outside = split_residual(basis, in_span_vector)
    assert outside.item() == pytest.approx(0.0, abs=1e-10) and inside.item() == pytest.approx(in_span_vector.norm().item())
    r = torch.randn(4, 10, generator=g, dtype=torch.float64)
    inside, outside = split_residual(basis, r)
    torch.testing.assert_close(inside**2 + outside**2, (r**2).sum(-1))
    orthogonal = r[0] - basis @ (basis.T @ r[0])
    assert split_residual(basis, orthogonal)[0].item() == pytest.approx(0.0, abs=1e-10)


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ParameterError, match=r"^k = 11 is not allowed"):
        information_space(torch.zeros(10, 40), 11)
    with pytest.raises(ParameterError, match=r"^residual.shape"):
        split_residual(torch.zeros(10, 2), torch.zeros(9))
