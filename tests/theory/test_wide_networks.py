"""Infinite-width kernels of ReLU networks against Monte Carlo over wide random networks and
numerical integration, and the variance of the trained output against sampled initial functions."""

import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad
from scipy.stats import norm

from overparam_lib import ParameterError
from overparam_lib.data import unit_sphere
from overparam_lib.ntk import batched_empirical_ntk, init_network, network_output
from overparam_lib.theory.wide_networks import relu_kernels, trained_output_variance, two_layer_ntk


def test_one_hidden_layer_recursion_is_the_closed_form():
    X1, X2 = unit_sphere(6, 4, seed=0), 2.0 * unit_sphere(5, 4, seed=1)  # norms other than 1 too
    assert torch.allclose(relu_kernels(X1, X2)["ntk"], two_layer_ntk(X1, X2), atol=1e-14)


def test_relu_expectations_against_numerical_integration():
    # (u, v) ~ N(0, [[a, c], [c, b]]): integrate over u > 0 the conditional expectations of v | u,
    # a Gaussian N(c u / a, b - c^2 / a), with scipy's adaptive quadrature
    x, x2 = torch.tensor([[1.3, 0.2]], dtype=torch.float64), torch.tensor([[0.4, -0.9]], dtype=torch.float64)
    a, b, c = float(x @ x.T), float(x2 @ x2.T), float(x @ x2.T)
    sd = math.sqrt(b - c * c / a)

    def conditional(u):
        mean = c * u / a
        return mean, norm.cdf(mean / sd), norm.pdf(mean / sd)

    density = norm(scale=math.sqrt(a)).pdf
    nngp = quad(lambda u: u * (lambda m, P, p: m * P + sd * p)(*conditional(u)) * density(u), 0, np.inf)[0]
    derivative = quad(lambda u: conditional(u)[1] * density(u), 0, np.inf)[0]
    got = relu_kernels(x, x2, depth=1)
    assert got["nngp"].item() == pytest.approx(nngp, rel=1e-8)
    assert got["ntk"].item() == pytest.approx(c * derivative + nngp, rel=1e-8)


@pytest.mark.parametrize("depth, width, networks, tolerance", [(1, 200_000, 1, 0.01), (2, 128, 256, 0.03), (3, 128, 256, 0.04)])
def test_kernels_are_the_limit_of_wide_random_networks(depth, width, networks, tolerance):
    # Monte Carlo: the empirical NTK averaged over random networks (its error here: 1% at one hidden
    # layer, 1-2% at two and three; with more than one hidden layer the finite width also biases it
    # by O(1/width)), and the covariance of f_0 over many networks
    X = unit_sphere(5, 3, seed=2)
    limit = relu_kernels(X, depth=depth)
    Theta = batched_empirical_ntk(init_network(3, [width] * depth, batch=(networks,), seed=depth), X).mean(0)
    assert float((Theta - limit["ntk"]).norm() / limit["ntk"].norm()) < tolerance
    outputs = network_output(init_network(3, [100] * depth, batch=(8000,), seed=10 + depth), X)  # (8000, n)
    nngp = outputs.T @ outputs / outputs.shape[0]
    assert float((nngp - limit["nngp"]).norm() / limit["nngp"].norm()) < 0.06  # 8000 samples: 1.5-4% here


def test_trained_output_variance_matches_sampled_initial_functions():
    # f_0 ~ GP(0, K) sampled exactly; the trained end point f0(x) + A (y - f0(X)) has the stated variance
    X, X_test = unit_sphere(8, 3, seed=3), unit_sphere(4, 3, seed=4)
    both = torch.cat([X, X_test])
    kernels = relu_kernels(both)
    K, Theta = kernels["nngp"], kernels["ntk"]
    g = torch.Generator().manual_seed(5)
    L = torch.linalg.cholesky(K + 1e-12 * torch.eye(12, dtype=torch.float64))
    f0 = (L @ torch.randn(12, 200_000, generator=g, dtype=torch.float64)).T  # (samples, 12)
    A = torch.linalg.solve(Theta[:8, :8], Theta[8:, :8].T).T
    end = f0[:, 8:] - f0[:, :8] @ A.T  # targets drop out of the variance
    variance = trained_output_variance(Theta[:8, :8], Theta[8:, :8], K[:8, :8], K[8:, :8], K.diagonal()[8:])
    assert torch.allclose(end.var(0), variance, rtol=0.02)


def test_depth_is_validated():
    with pytest.raises(ParameterError, match="depth"):
        relu_kernels(unit_sphere(3, 2), depth=0)
