"""The batched sweep engine against the plain one-model-at-a-time loop (torch.optim)."""

import numpy as np
import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.models import MLPBatch, width_buckets
from overparam_lib.progress import PROGRESS_ENV_VAR, progress_enabled
from overparam_lib.sweeps import interpolation_threshold
from overparam_lib.train import batch_indices, train, train_sequential

# float64 makes summation order the only difference between the two: trajectories agree
# to ~1e-15; 1e-9 leaves room for growth over the steps and still catches any real bug.
TOL = 1e-9
N, D, C = 120, 12, 4


def problem(num_models: int, seed: int = 0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(N, D, generator=g, dtype=torch.float64)
    X_test = torch.randn(50, D, generator=g, dtype=torch.float64)
    y = torch.randint(0, C, (num_models, N), generator=g)
    y_test = torch.randint(0, C, (50,), generator=g)
    return X.to(device), y.to(device), X_test.to(device), y_test.to(device)


def assert_same_as_sequential(widths, seeds, weight_decay, depth=2, device="cpu", tol=TOL, **kwargs):
    X, y, X_test, y_test = problem(len(widths), device=device)
    model = MLPBatch(D, widths, C, depth=depth, seeds=seeds, device=device, dtype=torch.float64)
    nets = [model.to_sequential(m) for m in range(len(widths))]  # same initial weights, trained alone
    history = train(model, X, y, X_test, y_test, weight_decay=weight_decay, progress=False, **kwargs)
    for m, net in enumerate(nets):
        decay = weight_decay[m] if isinstance(weight_decay, list) else weight_decay
        reference = train_sequential(net, X, y[m], X_test, y_test, weight_decay=decay, **kwargs)
        for key in ("train_loss", "test_loss", "train_error", "test_error"):
            np.testing.assert_allclose(history[key][:, m], reference[key][:, 0], rtol=tol, atol=tol, err_msg=f"model {m} {key}")
        assert history["stop_step"][m] == reference["stop_step"][0]
        trained = [p for layer in net if isinstance(layer, torch.nn.Linear) for p in (layer.weight, layer.bias)]
        for ours, theirs in zip([t for layer in model.layers_of(m) for t in layer], trained):
            torch.testing.assert_close(ours, theirs.detach(), rtol=tol, atol=tol)
    return history


@pytest.mark.parametrize(
    "optimizer, lr, momentum, batch_size",
    [("sgd", 0.1, 0.0, None), ("sgd", 0.05, 0.9, 32), ("adam", 0.01, 0.0, 25)],
)
def test_each_model_trains_exactly_as_it_would_alone(optimizer, lr, momentum, batch_size):
    widths = [3, 17, 5, 8, 17, 1]  # unsorted, repeated, and a width-1 model
    assert_same_as_sequential(widths, seeds=[4, 1, 2, 3, 9, 5], weight_decay=[0.0, 1e-3, 0.0, 0.05, 0.0, 0.01],
                              optimizer=optimizer, lr=lr, momentum=momentum, batch_size=batch_size,
                              steps=40, record_steps=[1, 7, 20])


def test_depth_one_and_three_and_shared_weight_decay():
    for depth in (1, 3):
        assert_same_as_sequential([2, 9, 6], seeds=0, weight_decay=1e-2, depth=depth,
                                  optimizer="adam", lr=0.02, batch_size=30, steps=25)


def test_models_stop_at_zero_training_error_like_the_loop_does():
    # random labels on 120 points: wide models memorize them within the budget, narrow ones cannot;
    # 400 Adam steps amplify rounding differences (fused vs plain update) to ~1e-7, hence 1e-6
    history = assert_same_as_sequential([2, 64, 3, 96], seeds=0, weight_decay=0.0, optimizer="adam", lr=0.03, tol=1e-6,
                                        batch_size=None, steps=400, record_steps=range(0, 401, 20), stop_at_zero_error=True)
    stopped = history["stop_step"] < 400
    assert stopped.tolist() == [False, True, False, True]
    assert (history["train_error"][-1][stopped] == 0).all() and (history["train_error"][-1][~stopped] > 0).all()


def test_training_error_splits_into_clean_and_corrupted_labels():
    # reference: predictions of each model after training, counted by hand on each subset
    X, y, X_test, y_test = problem(4)
    y_clean = y[0].clone()
    y[1, :30] = (y_clean[:30] + 1) % C  # model 1: 30 corrupted labels; model 0: none
    y[2:] = y[1]
    model = MLPBatch(D, [3, 40, 5, 60], C, seeds=0, dtype=torch.float64)
    history = train(model, X, y, X_test, y_test, steps=200, optimizer="adam", lr=0.03, batch_size=None,
                    progress=False, y_clean=y_clean)
    with torch.no_grad():
        logits = torch.cat([model.to_sequential(m)(X)[None] for m in range(4)])  # (M, n, C)
    wrong = (logits.argmax(-1) != y).numpy()  # (M, n)
    corrupted = (y != y_clean).numpy()
    for m in range(4):
        assert history["train_error"][-1, m] == pytest.approx(wrong[m].mean(), abs=1e-6)
        assert history["train_error_clean"][-1, m] == pytest.approx(wrong[m][~corrupted[m]].mean(), abs=1e-6)
        if corrupted[m].any():
            assert history["train_error_corrupted"][-1, m] == pytest.approx(wrong[m][corrupted[m]].mean(), abs=1e-6)
        else:
            assert np.isnan(history["train_error_corrupted"][-1, m])
    reference = train_sequential(model.to_sequential(1), X, y[1], X_test, y_test, steps=1, y_clean=y_clean)
    assert set(reference) == set(history)  # the plain loop records the same metrics
    assert "train_error_clean" not in train(model, X, y, X_test, y_test, steps=1, progress=False)


def test_zero_padding_stays_zero_and_masks_hold_weights_at_zero():
    X, y, X_test, y_test = problem(3)
    model = MLPBatch(D, [4, 5, 5], C, seeds=0, bucket_overhead=1e9, dtype=torch.float64)
    assert len(model.buckets) == 1  # 4 is padded to 5
    mask = (torch.rand(5, D, generator=torch.Generator().manual_seed(1)) > 0.5).double()
    model.set_mask(1, 0, mask)
    train(model, X, y, X_test, y_test, steps=30, optimizer="sgd", lr=0.1, momentum=0.9, progress=False)
    W1 = model.weights[0]  # (3, D, 5) in bucket order
    g4 = model.position[0][1]
    assert (W1[g4, :, 4] == 0).all() and (model.weights[1][g4, 4, :] == 0).all() and (model.biases[0][g4, 0, 4] == 0)
    first, _ = model.layers_of(1)[0]
    assert (first[mask == 0] == 0).all() and (first[mask == 1] != 0).all()


def test_init_is_nn_linear_init_and_depends_only_on_width_and_seed():
    a = MLPBatch(D, [7, 30], C, seeds=[3, 4], dtype=torch.float64)
    b = MLPBatch(D, [30, 100, 7], C, seeds=[4, 0, 3], dtype=torch.float64)
    for (Wa, ba), (Wb, bb) in zip(a.layers_of(0), b.layers_of(2)):
        assert torch.equal(Wa, Wb) and torch.equal(ba, bb)
    W, bias = a.layers_of(1)[1]  # (30, 30): uniform on +-1/sqrt(30), like nn.Linear
    bound = 30**-0.5
    assert W.abs().max() <= bound and W.abs().max() > 0.9 * bound and bias.abs().max() <= bound
    assert a.num_parameters() == [sum(p.numel() for p in a.to_sequential(m).parameters()) for m in range(2)]


def test_useful_flops_count_the_models_own_matmuls():
    model = MLPBatch(40, [16, 100], 10)
    assert model.useful_flops_per_example() == 2 * (40 * 16 + 16 * 16 + 16 * 10) + 2 * (40 * 100 + 100 * 100 + 100 * 10)


def test_width_buckets_are_the_cheapest_contiguous_grouping():
    from itertools import combinations, pairwise

    widths = [2, 3, 100, 120, 126, 5, 130, 3]
    flops = lambda h: 2 * (40 * h + h * h + 10 * h)
    cost = lambda G, H: 1e4 + G * flops(H) / (G / (2 * -(-G // 2)) if G > 1 else 1.0)  # the documented model, 2 threads
    order = sorted(range(len(widths)), key=lambda i: (widths[i], i))
    brute = float("inf")  # every way of cutting the sorted list into contiguous groups
    for k in range(len(order)):
        for cuts in combinations(range(1, len(order)), k):
            bounds = [0, *cuts, len(order)]
            brute = min(brute, sum(cost(j - i, widths[order[j - 1]]) for i, j in pairwise(bounds)))
    buckets = width_buckets(widths, flops, overhead=1e4, threads=2)
    assert [m for b in buckets for m in b] == order  # a partition of the sorted models
    assert sum(cost(len(b), max(widths[m] for m in b)) for b in buckets) == pytest.approx(brute)
    assert all(len({widths[m] for m in b}) == 1 for b in width_buckets(widths, flops, overhead=0.0, threads=1))


def test_batch_indices_are_epochs_of_permutations():
    batches = list(batch_indices(10, 4, 6, seed=3))
    assert [len(b) for b in batches] == [4, 4, 2, 4, 4, 2]
    assert sorted(torch.cat(batches[:3]).tolist()) == list(range(10))
    assert all(b is None for b in batch_indices(10, None, 3))


def test_interpolation_threshold_is_the_first_width_from_which_all_fit():
    widths = np.array([2, 4, 8, 16, 32])
    errors = np.array([[0.5, 0.0, 0.1, 0.0, 0.0], [0.5, 0.4, 0.3, 0.2, 0.1]])
    assert interpolation_threshold(widths, errors)[0] == 16
    assert np.isnan(interpolation_threshold(widths, errors)[1])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps = 0 is not allowed: expected a positive integer"),
        ({"optimizer": "lbfgs"}, "optimizer = 'lbfgs' is not allowed: expected one of 'sgd', 'adam'"),
        ({"lr": -1.0}, "lr = -1.0 is not allowed: expected a number > 0"),
        ({"momentum": 1.0}, "momentum = 1.0 is not allowed"),
        ({"record_steps": [50]}, "record_steps = [50] is not allowed: expected steps in [0, steps = 10]"),
        ({"weight_decay": -0.1}, "weight_decay = [-0.1, -0.1] is not allowed: expected values >= 0"),
    ],
)
def test_bad_training_arguments_name_the_parameter(kwargs, message):
    X, y, X_test, y_test = problem(2)
    model = MLPBatch(D, [3, 4], C, dtype=torch.float64)
    with pytest.raises(ParameterError, match=message.replace("[", r"\[").replace("(", r"\(")):
        train(model, X, y, X_test, y_test, **{"steps": 10, **kwargs})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"widths": []}, "widths = [] is not allowed"),
        ({"widths": [3, 0]}, "widths = [3, 0] is not allowed: expected a non-empty list of positive integers"),
        ({"seeds": [1, 2, 3]}, "seeds = [1, 2, 3] is not allowed: expected one int, or one seed per model (2)"),
        ({"depth": 0}, "depth = 0 is not allowed"),
    ],
)
def test_bad_model_arguments_name_the_parameter(kwargs, message):
    args = {"in_features": D, "widths": [3, 4], "num_classes": C, **kwargs}
    with pytest.raises(ParameterError) as err:
        MLPBatch(**args)
    assert message in str(err.value)


def test_progress_bars_follow_the_environment(monkeypatch):
    monkeypatch.setenv(PROGRESS_ENV_VAR, "0")
    assert not progress_enabled() and progress_enabled(True)
    monkeypatch.delenv(PROGRESS_ENV_VAR)
    assert progress_enabled() and not progress_enabled(False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_engine_on_cuda_matches_the_loop():
    assert_same_as_sequential([3, 40, 7], seeds=0, weight_decay=[0.0, 0.01, 0.0], device="cuda", tol=1e-7,
                              optimizer="adam", lr=0.01, batch_size=32, steps=30)
