"""Networks in the NTK parameterization: the empirical NTK against explicit Jacobians, the kernel
predictors against direct solves and a gradient-descent loop on the linearized network."""

import math

import pytest
import torch
from torch.func import jvp

from overparam_lib import ParameterError
from overparam_lib.data import unit_sphere
from overparam_lib.ntk import (batched_empirical_ntk, empirical_ntk, init_network, kernel_regression,
                               linearized_predictions, network_output, num_parameters, relative_change, weights_change)


def _flat_jacobian(weights, X):
    """(n, P) Jacobian by torch.autograd.functional.jacobian of the outputs in the concatenated weights."""
    shapes = [W.shape for W in weights]
    flat = torch.cat([W.flatten() for W in weights])

    def outputs(theta):
        pieces, start = [], 0
        for shape in shapes:
            pieces.append(theta[start:start + math.prod(shape)].reshape(shape))
            start += math.prod(shape)
        return network_output(pieces, X)

    return torch.autograd.functional.jacobian(outputs, flat)


def test_empirical_ntk_equals_the_explicit_jacobian_product():
    X1, X2 = unit_sphere(5, 3, seed=1), unit_sphere(4, 3, seed=2)
    for widths in ([7], [6, 5], [4, 3, 5]):
        weights = init_network(3, widths, seed=3)
        J1, J2 = _flat_jacobian(weights, X1), _flat_jacobian(weights, X2)
        assert J1.shape == (5, num_parameters(weights))
        assert torch.allclose(empirical_ntk(weights, X1, X2), J1 @ J2.T, atol=1e-10, rtol=0)
        assert torch.allclose(empirical_ntk(weights, X1), J1 @ J1.T, atol=1e-10, rtol=0)


def test_batched_empirical_ntk_and_output_equal_one_network_at_a_time():
    X = unit_sphere(6, 4, seed=0)
    batch = init_network(4, [9, 7], batch=(3,), seed=1)
    kernels, outputs = batched_empirical_ntk(batch, X), network_output(batch, X)
    for s in range(3):
        one = [W[s] for W in batch]
        assert torch.allclose(kernels[s], empirical_ntk(one, X), atol=1e-12)
        assert torch.allclose(outputs[s], network_output(one, X), atol=1e-12)


def test_network_output_is_the_ntk_parameterization_written_out():
    X = unit_sphere(5, 3, seed=4)
    W1, a = init_network(3, [11], seed=5)
    expected = torch.relu(X @ W1.T) @ a[0] / math.sqrt(11)  # f(x) = m^{-1/2} sum_r a_r relu(w_r . x)
    assert torch.allclose(network_output([W1, a], X), expected, atol=1e-14)


def test_antisymmetric_initialization_starts_at_zero_and_keeps_the_kernel_mean():
    X = unit_sphere(8, 5, seed=6)
    doubled = init_network(5, [10], batch=(2,), seed=7, antisymmetric=True)
    assert network_output(doubled, X).abs().max() < 1e-14
    # the twins repeat the first half: the kernel is the first half's (10 terms over 10 = 5 terms over 5)
    half = [doubled[0][..., :5, :], doubled[1][..., :5]]
    assert torch.allclose(batched_empirical_ntk(doubled, X), batched_empirical_ntk(half, X), atol=1e-12)
    for widths in ([7], [6, 10]):
        with pytest.raises(ParameterError, match="widths"):
            init_network(5, widths, antisymmetric=True)


def test_seeded_initialization_is_reproducible_and_validated():
    a, b = init_network(4, [6], batch=(2,), seed=3), init_network(4, [6], batch=(2,), seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    for kwargs, name in (({"input_dim": 0, "widths": [3]}, "input_dim"), ({"input_dim": 3, "widths": []}, "widths"),
                         ({"input_dim": 3, "widths": [3, 0]}, "widths")):
        with pytest.raises(ParameterError, match=name):
            init_network(**kwargs)


def test_relative_changes_are_frobenius_ratios():
    old, new = torch.ones(2, 3, 3), torch.ones(2, 3, 3) * 1.5
    assert torch.allclose(relative_change(new, old), torch.full((2,), 0.5))
    w0 = [torch.ones(2, 3, 4), torch.ones(2, 1, 3)]
    w1 = [W.clone() for W in w0]
    w1[1][1] += 1.0  # only the second network's output layer moves, by sqrt(3) in norm
    assert torch.allclose(weights_change(w1, w0), torch.tensor([0.0, math.sqrt(3 / 15)]))


def test_kernel_regression_equals_a_direct_solve():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(6, 6, generator=g, dtype=torch.float64)
    K = A @ A.T + 0.5 * torch.eye(6, dtype=torch.float64)
    K_test = torch.randn(4, 6, generator=g, dtype=torch.float64)
    y, f0, f0_test = (torch.randn(k, generator=g, dtype=torch.float64) for k in (6, 6, 4))
    expected = f0_test + K_test @ torch.linalg.lstsq(K, (y - f0)[:, None]).solution[:, 0]
    assert torch.allclose(kernel_regression(K, K_test, y, f0, f0_test), expected, atol=1e-10)
    assert torch.allclose(kernel_regression(K, K_test, y), K_test @ torch.linalg.solve(K, y), atol=1e-10)
    with pytest.raises(ParameterError, match="f0_train, f0_test"):
        kernel_regression(K, K_test, y, f0, None)


def test_linearized_predictions_equal_gradient_descent_on_the_linearized_network():
    # the linearized network f0 + J0 (theta - theta0), trained by a loop of explicit GD steps via jvp
    d, n, steps, lr = 3, 6, 40, 0.7
    X, X_test = unit_sphere(n, d, seed=8), unit_sphere(5, d, seed=9)
    y = torch.sin(2 * X[:, 0])
    w0 = init_network(d, [12], seed=10)

    def linearized(delta, inputs):
        f0, tangent = jvp(lambda *ws: network_output(list(ws), inputs), tuple(w0), tuple(delta))
        return f0 + tangent

    delta = [torch.zeros_like(W, requires_grad=True) for W in w0]
    for _ in range(steps):
        loss = (linearized(delta, X) - y).pow(2).sum() / (2 * n)
        grads = torch.autograd.grad(loss, delta)
        delta = [(D - lr * g).detach().requires_grad_(True) for D, g in zip(delta, grads)]
    expected = linearized(delta, X_test).detach()
    K, K_test = empirical_ntk(w0, X), empirical_ntk(w0, X_test, X)
    got = linearized_predictions(K, K_test, y, network_output(w0, X), network_output(w0, X_test), lr, steps)
    assert torch.allclose(got, expected, atol=1e-10)
    # infinitely many steps: kernel regression from f0
    limit = linearized_predictions(K, K_test, y, network_output(w0, X), network_output(w0, X_test), lr, 10**6)
    assert torch.allclose(limit, kernel_regression(K, K_test, y, network_output(w0, X), network_output(w0, X_test)), atol=1e-8)
    with pytest.raises(ParameterError, match="lr"):
        linearized_predictions(K, K_test, y, network_output(w0, X), network_output(w0, X_test), 1e3, steps)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_empirical_ntk_on_cuda_equals_cpu():
    X = unit_sphere(5, 3, seed=0)
    weights = init_network(3, [16, 8], seed=1)
    cpu = empirical_ntk(weights, X)
    gpu = empirical_ntk([W.cuda() for W in weights], X.cuda()).cpu()
    assert torch.allclose(cpu, gpu, atol=1e-10)
