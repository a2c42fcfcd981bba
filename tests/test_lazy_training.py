"""Lazy and rich training: gradient descent against torch.optim.SGD on each network alone, the output
scale and centring, hidden-unit permutations and the subspace alignment by hand."""

import math

import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.data import unit_sphere
from overparam_lib.lazy_training import gradient_descent, permute_hidden, scaled_output, subspace_alignment
from overparam_lib.ntk import init_network, network_output


def _sgd_reference(weights0, X, y, lr, steps, alpha, center):
    """One network: an nn.Module-free loop with torch.optim.SGD on ||alpha (f - f0) - y||^2 / (2 n alpha^2)."""
    params = [W.clone().requires_grad_(True) for W in weights0]
    f0 = network_output(weights0, X) if center else 0.0
    optimizer = torch.optim.SGD(params, lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = (alpha * (network_output(params, X) - f0) - y).pow(2).mean() / (2 * alpha**2)
        loss.backward()
        optimizer.step()
    return [p.detach() for p in params]


@pytest.mark.parametrize("center", [False, True])
def test_batched_gradient_descent_equals_sgd_on_each_network_alone(center):
    X = unit_sphere(7, 4, seed=0)
    y = torch.cos(3 * X[:, 0])
    batch = init_network(4, [10], batch=(3,), seed=1)
    alphas = torch.tensor([0.1, 1.0, 10.0], dtype=torch.float64)
    final, history = gradient_descent(batch, X, y, lr=0.5, steps=25, alpha=alphas, center=center, record_steps=[0, 25])
    for s in range(3):
        expected = _sgd_reference([W[s] for W in batch], X, y, 0.5, 25, float(alphas[s]), center)
        for got, want in zip(final, expected):
            assert torch.allclose(got[s], want, atol=1e-10)
        one, _ = gradient_descent([W[s] for W in batch], X, y, lr=0.5, steps=25, alpha=float(alphas[s]), center=center)
        assert all(torch.allclose(a[s], b, atol=1e-12) for a, b in zip(final, one))
    # the recorded loss is that of h, ||h - y||^2 / (2n), at steps 0 and 25
    h_end = scaled_output(final, X, alphas, network_output(batch, X) if center else None)
    assert torch.allclose(history["loss"][1], (h_end - y).pow(2).mean(-1) / 2, atol=1e-12)
    assert history["steps"].tolist() == [0, 25]


def test_a_centred_doubled_network_starts_at_zero_for_every_scale():
    X = unit_sphere(5, 3, seed=2)
    weights = init_network(3, [8], batch=(2,), seed=3, antisymmetric=True)
    alphas = torch.tensor([0.01, 100.0], dtype=torch.float64)
    assert scaled_output(weights, X, alphas, None).abs().max() < 1e-12


def test_bad_training_arguments_are_named():
    X, y = unit_sphere(4, 3, seed=4), torch.zeros(4, dtype=torch.float64)
    weights = init_network(3, [6], batch=(2,), seed=5)
    for kwargs, name in (({"lr": 0.0, "steps": 3}, "lr"), ({"lr": 0.1, "steps": -1}, "steps"),
                         ({"lr": 0.1, "steps": 3, "alpha": 0.0}, "alpha"),
                         ({"lr": 0.1, "steps": 3, "alpha": torch.ones(3, dtype=torch.float64)}, "alpha"),
                         ({"lr": 0.1, "steps": 3, "record_steps": [4]}, "record_steps")):
        with pytest.raises(ParameterError, match=name):
            gradient_descent(weights, X, y, **kwargs)


def test_permuting_hidden_units_changes_the_weights_not_the_function():
    X = unit_sphere(9, 4, seed=6)
    weights = init_network(4, [5, 6], seed=7)
    for layer, width in ((0, 5), (1, 6)):
        permutation = torch.roll(torch.arange(width), 2)
        permuted = permute_hidden(weights, layer, permutation)
        assert not torch.equal(permuted[layer], weights[layer])
        assert torch.allclose(network_output(permuted, X), network_output(weights, X), atol=1e-13)
    with pytest.raises(ParameterError, match="layer"):
        permute_hidden(weights, 2, torch.arange(1))
    with pytest.raises(ParameterError, match="permutation"):
        permute_hidden(weights, 0, torch.tensor([0, 0, 1, 2, 3]))


def test_subspace_alignment_by_hand():
    basis = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    first = torch.tensor([[2.0, 0.0, 0.0], [0.0, 3.0, 4.0], [1.0, 1.0, 0.0]], dtype=torch.float64)
    output = torch.tensor([[1.0, -1.0, 2.0]], dtype=torch.float64)
    # weights |a_r| |w_r| = 2, 5, 2 sqrt 2; fractions in the span 1, 0, 1/sqrt 2
    expected = (2 * 1 + 5 * 0 + 2 * math.sqrt(2) / math.sqrt(2)) / (2 + 5 + 2 * math.sqrt(2))
    assert float(subspace_alignment(first, output, basis)) == pytest.approx(expected, rel=1e-12)
