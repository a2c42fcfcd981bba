"""Many ReLU MLPs as one batched network: padding, init, FLOP counts, width buckets, argument checks."""

import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.models import MLPBatch, width_buckets
from overparam_lib.train import train
from tests.test_train import C, D, problem


def test_zero_padding_stays_zero_and_masks_hold_weights_at_zero():
    X, y, X_test, y_test = problem(3)
    model = MLPBatch(D, [4, 5, 5], C, seeds=0, bucket_overhead=1e9, dtype=torch.float64)
    assert len(model.buckets) == 1  # 4 is padded to 5
    mask = (torch.rand(5, D, generator=torch.Generator().manual_seed(1)) > 0.5).double()
    model.set_mask(1, 0, mask)
    train(model, X, y, X_test, y_test, steps=30, optimizer="sgd", lr=0.1, momentum=0.9, progress=False)
    W1 = model.weights[0]  # (3, 5, D) in bucket order
    g4 = model.position[0][1]
    assert (W1[g4, 4, :] == 0).all() and (model.weights[1][g4, :, 4] == 0).all() and (model.biases[0][g4, 4, 0] == 0)
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


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_written_out_backprop_gives_each_models_autograd_gradient(depth, monkeypatch):
    # reference: each model alone as nn.Sequential, its mean cross-entropy through autograd
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)  # the bucket cost model counts threads
    g = torch.Generator().manual_seed(depth)
    widths = [3, 17, 5, 8, 17, 1, 30]
    model = MLPBatch(D, widths, C, depth=depth, seeds=2, bucket_overhead=1000.0, dtype=torch.float64)
    assert [[widths[m] for m in b] for b in model.buckets] == [[1, 3, 5, 8], [17, 17], [30]]  # padding in bucket 0
    x = torch.randn(25, D, generator=g, dtype=torch.float64)
    labels = torch.randint(0, C, (model.num_models, 25), generator=g)  # model order
    buckets = [0, len(model.buckets) - 1]  # some buckets only: the others' gradients stay as they were
    rows = [m for b in buckets for m in model.buckets[b]]  # bucket order
    model.flat.grad.fill_(float("nan"))
    model.cross_entropy_grad_(x, labels[rows].T, buckets)
    trained = set(rows)
    for m in range(model.num_models):
        b, _ = model.position[m]
        owned = model.owner == model.order.index(m)
        if m not in trained:
            assert model.flat.grad[owned].isnan().all()
            continue
        net = model.to_sequential(m)
        torch.nn.functional.cross_entropy(net(x), labels[m]).backward()
        linears = [layer for layer in net if isinstance(layer, torch.nn.Linear)]
        g_pos = model.position[m][1]
        for l, linear in enumerate(linears):
            weight_grad = model.weights[b * (depth + 1) + l].grad[g_pos]  # (fan_out, fan_in) padded to the bucket
            bias_grad = model.biases[b * (depth + 1) + l].grad[g_pos, :, 0]
            fan_out, fan_in = linear.weight.shape
            torch.testing.assert_close(weight_grad[:fan_out, :fan_in], linear.weight.grad, rtol=1e-12, atol=1e-14)
            torch.testing.assert_close(bias_grad[:fan_out], linear.bias.grad, rtol=1e-12, atol=1e-14)
            # padding gets exactly zero gradient, so it stays zero
            assert (weight_grad[fan_out:] == 0).all() and (weight_grad[:, fan_in:] == 0).all() and (bias_grad[fan_out:] == 0).all()


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
