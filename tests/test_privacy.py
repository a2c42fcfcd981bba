"""Membership inference by Monte Carlo: the fits against NumPy, interpolation, and the attacks' advantages."""

import numpy as np
import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.privacy import best_threshold_advantage, simulate_membership, threshold_advantage
from overparam_lib.theory import benign_overfitting as theory


def test_min_norm_member_prediction_is_the_label_and_fits_match_numpy():
    n, D, widths = 6, 30, [7, 12, 30]
    out = simulate_membership(n, widths, D, noise=0.5, num_trials=4, seed=3, device="cpu")
    # interpolation: a model that trained on (x0, y0) predicts y0 at x0
    np.testing.assert_allclose(out["member"].numpy(), out["y0"].numpy()[:, None].repeat(3, 1), atol=1e-9)
    # the same trials, redrawn here and fitted one by one with NumPy's pinv / a direct ridge solve
    from overparam_lib.device import generator

    g = generator(3)
    x0 = torch.randn(D, generator=g, dtype=torch.float64).numpy()
    X = torch.randn(4, n, D, generator=g, dtype=torch.float64).numpy()
    beta = (torch.randn(4, D, generator=g, dtype=torch.float64) / D**0.5).numpy()
    eps = (0.5**0.5 * torch.randn(4, n + 1, generator=g, dtype=torch.float64)).numpy()
    np.testing.assert_array_equal(out["x0"].numpy(), x0)
    for t in range(4):
        y = X[t] @ beta[t] + eps[t, 1:]
        for w, p in enumerate(widths):
            np.testing.assert_allclose(out["non_member"][t, w].item(), x0[:p] @ np.linalg.pinv(X[t][:, :p]) @ y, rtol=1e-9)
    ridge = simulate_membership(n, [4, 30], D, noise=0.5, num_trials=4, ridge=0.1, seed=3, device="cpu")
    for t in range(4):
        y = X[t] @ beta[t] + eps[t, 1:]
        for w, p in enumerate([4, 30]):
            Xp = X[t][:, :p]
            w_ridge = np.linalg.solve(Xp.T @ Xp + n * 0.1 * np.eye(p), Xp.T @ y)
            np.testing.assert_allclose(ridge["non_member"][t, w].item(), x0[:p] @ w_ridge, rtol=1e-9)


def test_threshold_advantages_match_the_closed_form_on_gaussians():
    g = torch.Generator().manual_seed(0)
    T = 40000
    for var0, var1 in [(4.0, 1.0), (1.0, 3.0)]:
        member, non_member = var1**0.5 * torch.randn(T, generator=g), var0**0.5 * torch.randn(T, generator=g)
        a = float(theory.likelihood_ratio_threshold(var0, var1))
        exact = float(theory.membership_advantage(var0, var1))
        # standard error of a difference of two rates from T draws each: <= sqrt(2 * 0.25 / T) = 0.0035
        assert abs(threshold_advantage(member.double(), non_member.double(), a).item()) == pytest.approx(exact, abs=0.015)
        assert best_threshold_advantage(member.double(), non_member.double()).item() == pytest.approx(exact, abs=0.02)
    same = torch.randn(T, 2, generator=g).double()
    assert (best_threshold_advantage(same[:, :1], same[:, 1:]) < 0.02).all()  # no difference to find


def test_bad_arguments_name_the_parameter():
    with pytest.raises(ParameterError, match=r"^widths = \[5, 10\] is not allowed: .*p > n"):
        simulate_membership(5, [5, 10], 20, noise=0.1, num_trials=2)
    with pytest.raises(ParameterError, match=r"^widths = \[30\] is not allowed"):
        simulate_membership(5, [30], 20, noise=0.1, num_trials=2, ridge=0.1)
    with pytest.raises(ParameterError, match=r"^noise = -1"):
        simulate_membership(5, [10], 20, noise=-1.0, num_trials=2)
    with pytest.raises(ParameterError, match=r"^non_member.shape"):
        best_threshold_advantage(torch.zeros(3, 2), torch.zeros(4, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_gives_the_cpu_result():
    kwargs = {"n_train": 8, "widths": [10, 20], "num_features": 40, "noise": 0.2, "num_trials": 16}
    cpu, cuda = simulate_membership(**kwargs, device="cpu"), simulate_membership(**kwargs, device="cuda")
    torch.testing.assert_close(cuda["non_member"], cpu["non_member"], rtol=1e-7, atol=1e-10)
