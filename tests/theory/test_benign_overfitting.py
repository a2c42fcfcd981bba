"""The benign-overfitting chapter's closed forms: effective ranks against their definition, the
membership-inference variances against Monte Carlo, the advantage against numerical integration."""

import numpy as np
import pytest
import torch
from scipy import integrate
from scipy.stats import norm

from overparam_lib import ParameterError
from overparam_lib.theory import benign_overfitting as theory


def test_effective_ranks_follow_their_definition():
    lam = np.sort(np.random.default_rng(0).exponential(size=40))[::-1]
    r, R = theory.effective_ranks(lam)
    for k in range(40):  # the definition, one k at a time (k eigenvalues removed)
        tail = lam[k:]
        assert r[k] == pytest.approx(tail.sum() / lam[k], rel=1e-12)
        assert R[k] == pytest.approx(tail.sum() ** 2 / (tail**2).sum(), rel=1e-12)
    # isotropic: r_k = R_k = p - k, the number of eigenvalues left
    r, R = theory.effective_ranks(np.ones(10))
    np.testing.assert_allclose(r, np.arange(10, 0, -1))
    np.testing.assert_allclose(R, np.arange(10, 0, -1))


def test_critical_index_and_benign_terms():
    lam = np.array([10.0, 5.0] + [0.01] * 1000)  # two spikes and a long, flat tail
    r, R = theory.effective_ranks(lam)
    n = 50
    k = theory.critical_index(lam, n)
    assert k == 2 and r[1] < n <= r[2]  # the tail after the spikes has effective rank 1000 >= n
    terms = theory.benign_terms(lam, n)
    assert terms["k_star"] == 2 and terms["k_over_n"] == 2 / n and terms["n_over_R"] == pytest.approx(n / 1000)
    assert theory.critical_index(np.ones(10), n_train=50) is None  # too few directions to absorb the noise
    assert np.isnan(theory.benign_terms(np.ones(10), 50)["rate"])


def test_membership_variances_match_monte_carlo():
    # min-norm regression on the first p of D Gaussian features, trained on n examples;
    # the prediction at a fixed x0, over many draws of the training set, beta and noise
    n, D, noise, trials = 20, 120, 0.3, 5000
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(D, generator=g, dtype=torch.float64)
    for p in (25, 40, 100):
        X = torch.randn(trials, n, D, generator=g, dtype=torch.float64)
        beta = torch.randn(trials, D, generator=g, dtype=torch.float64) / D**0.5
        y = (X @ beta.unsqueeze(-1)).squeeze(-1) + noise**0.5 * torch.randn(trials, n, generator=g, dtype=torch.float64)
        non_member = (torch.linalg.pinv(X[:, :, :p]) @ y.unsqueeze(-1)).squeeze(-1) @ x0[:p]
        X[:, 0] = x0  # the target is the first training example
        y[:, 0] = x0 @ beta.T + noise**0.5 * torch.randn(trials, generator=g, dtype=torch.float64)
        member = (torch.linalg.pinv(X[:, :, :p]) @ y.unsqueeze(-1)).squeeze(-1) @ x0[:p]
        var0, var1 = theory.membership_variances(n, p, D, noise, float(x0[:p] @ x0[:p]), float(x0 @ x0))
        # a variance estimated from m Gaussian draws has relative standard error sqrt(2/m) = 2%: 8% is
        # 4 of them (seeds 0-2 gave at most 3%); the non-member law is a scale mixture with heavy
        # tails as p comes down to n + 1, so at p = 25 (p - n - 1 = 4) the estimate is far noisier
        assert member.var().item() == pytest.approx(var1, rel=0.08), p
        assert non_member.var().item() == pytest.approx(var0, rel=0.08 if p > 25 else 0.25), p


def test_advantage_is_the_total_variation_distance():
    for var0, var1 in [(1.0, 2.0), (3.0, 0.5), (1.0, 1.0 + 1e-9), (0.01, 10.0)]:
        tv, _ = integrate.quad(lambda t: abs(norm.pdf(t, scale=var0**0.5) - norm.pdf(t, scale=var1**0.5)) / 2,
                               -np.inf, np.inf, epsabs=1e-12)
        assert theory.membership_advantage(var0, var1) == pytest.approx(tv, abs=1e-7)
        a = theory.likelihood_ratio_threshold(var0, var1)
        if var0 != pytest.approx(var1):
            assert norm.pdf(a, scale=var0**0.5) == pytest.approx(norm.pdf(a, scale=var1**0.5), rel=1e-9)
    assert theory.membership_advantage(2.0, 2.0) == 0.0


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: theory.effective_ranks([1.0, 2.0]), "eigenvalues"),
        (lambda: theory.effective_ranks([1.0, 0.0]), "eigenvalues"),
        (lambda: theory.critical_index([1.0], n_train=0), "n_train"),
        (lambda: theory.membership_variances(10, 11, 100, 0.1, 11.0, 100.0), "p"),
        (lambda: theory.membership_variances(10, 200, 100, 0.1, 11.0, 100.0), "p"),
        (lambda: theory.membership_variances(10, 20, 100, -0.1, 11.0, 100.0), "noise"),
        (lambda: theory.likelihood_ratio_threshold(0.0, 1.0), "variances"),
    ],
)
def test_bad_arguments_name_the_parameter(call, name):
    with pytest.raises(ParameterError, match=rf"^{name} = "):
        call()
