"""The Lipschitz lower bound: exact on linear maps, between a random-point baseline and the spectral
upper bound on a ReLU network, and rising with more search."""

import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.lipschitz import input_gradient_norms, lipschitz_lower_bound


def two_layer(W, v, activation=torch.relu):
    return lambda X: activation(X @ W.T) @ v


def test_linear_map_bound_is_its_exact_constant():
    a = torch.tensor([3.0, -4.0, 12.0], dtype=torch.float64)  # Lip = ||a|| = 13
    out = lipschitz_lower_bound(lambda X: X @ a, dim=3, num_restarts=5, steps=3, dtype=torch.float64)
    assert out["bound"].item() == pytest.approx(13.0, rel=1e-12)
    assert torch.allclose(input_gradient_norms(lambda X: X @ a, torch.randn(4, 3, dtype=torch.float64)),
                          torch.full((4,), 13.0, dtype=torch.float64))


def test_relu_network_bound_sits_between_the_baseline_and_the_spectral_upper_bound():
    g = torch.Generator().manual_seed(0)
    d, k = 10, 200
    W = torch.randn(k, d, generator=g) / d**0.5
    v = torch.randn(k, generator=g) / k**0.5
    f = two_layer(W, v)
    smooth = two_layer(W, v, lambda z: torch.nn.functional.softplus(z, beta=10.0))
    upper = (v.norm() * torch.linalg.matrix_norm(W, ord=2)).item()  # Lip <= ||v|| ||W||_2
    few = lipschitz_lower_bound(f, d, num_restarts=4, steps=0, seed=1)
    searched = lipschitz_lower_bound(f, d, num_restarts=32, steps=60, smooth=smooth, seed=1)
    assert searched["bound"] <= upper
    assert searched["bound"] > 1.05 * searched["start"].max()  # the ascent finds steeper points
    assert searched["bound"] >= few["bound"]
    assert (searched["by_restarts"].diff() >= 0).all() and searched["by_restarts"][-1] == searched["bound"]
    # without the smooth stand-in the ReLU gradient's gradient is zero: the search cannot move
    stuck = lipschitz_lower_bound(f, d, num_restarts=32, steps=20, seed=1)
    assert torch.equal(stuck["per_restart"], stuck["start"])


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ParameterError, match=r"^num_restarts = 0"):
        lipschitz_lower_bound(lambda X: X.sum(1), dim=3, num_restarts=0)
    with pytest.raises(ParameterError, match=r"^lr = 0"):
        lipschitz_lower_bound(lambda X: X.sum(1), dim=3, lr=0.0)
