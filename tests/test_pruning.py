"""Pruning against independent references: masks against a NumPy sort, SNIP against autograd, masked training
against torch.nn.utils.prune, FLOPs against a hand count and torch's FlopCounterMode, IMP rounds by hand."""

import numpy as np
import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.models import MLPBatch
from torch.nn.utils import prune
from torch.utils.flop_counter import FlopCounterMode

from overparam_lib.pruning import (METHODS, compare_tickets, counts, density, early_bird_epoch, error_barrier,
                                   interpolation_errors, iterative_magnitude_pruning, keep_largest, layer_rates, load_flat,
                                   magnitude_prune, mask_distance, model_of_entry, random_masks_like, set_ticket, snip_masks,
                                   training_flops, weights_of)
from overparam_lib.train import evaluate, train, train_sequential


def _weights(seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(30, 40, generator=g), torch.randn(20, 30, generator=g), torch.randn(10, 20, generator=g)]


def test_magnitude_pruning_removes_the_smallest_remaining_weights_layer_by_layer():
    weights = _weights()
    masks = [torch.ones_like(W) for W in weights]
    rates = layer_rates(3)
    assert rates == [0.2, 0.2, 0.1]  # output layer at half the rate
    for round_ in range(1, 6):
        previous = masks
        masks = magnitude_prune(weights, masks, rates)
        for W, old, new, rate in zip(weights, previous, masks, rates):
            alive = old.flatten().numpy().astype(bool)
            values = np.abs(W.flatten().numpy())
            expected = alive.copy()
            order = np.flatnonzero(alive)[np.argsort(values[alive], kind="stable")]
            expected[order[: round(rate * alive.sum())]] = False  # the reference: NumPy's sort
            assert np.array_equal(new.flatten().numpy().astype(bool), expected)
            assert not (new.bool() & ~old.bool()).any()  # pruning never revives a weight
        # after k rounds about 0.8^k of a hidden layer is left (counts are rounded each round)
        assert masks[0].mean().item() == pytest.approx(0.8**round_, abs=0.01)
    assert density(masks) == pytest.approx(sum(m.sum() for m in masks).item() / sum(m.numel() for m in masks))


def test_random_masks_keep_each_layers_count_and_distance_counts_differences():
    masks = magnitude_prune(_weights(), [torch.ones(30, 40), torch.ones(20, 30), torch.ones(10, 20)], [0.5, 0.5, 0.25])
    shuffled = random_masks_like(masks, torch.Generator().manual_seed(1))
    assert [int(m.sum()) for m in shuffled] == [int(m.sum()) for m in masks]
    assert mask_distance(masks, masks) == 0.0
    flipped = [1 - m for m in masks]
    assert mask_distance(masks, flipped) == 1.0
    assert 0.3 < mask_distance(masks, shuffled) < 0.7  # independent masks at density ~1/2 differ in about half
    with pytest.raises(ParameterError, match="b = "):
        mask_distance(masks, masks[:2])


def test_snip_keeps_the_largest_connection_sensitivities_globally():
    g = torch.Generator().manual_seed(2)
    W1 = torch.randn(8, 5, generator=g, requires_grad=True)
    W2 = torch.randn(3, 8, generator=g, requires_grad=True)
    x, y = torch.randn(16, 5, generator=g), torch.randint(0, 3, (16,), generator=g)
    loss = torch.nn.functional.cross_entropy(torch.relu(x @ W1.T) @ W2.T, y)
    grads = torch.autograd.grad(loss, [W1, W2])
    masks = snip_masks([W1, W2], grads, density=0.25)
    scores = np.concatenate([(W1 * grads[0]).abs().detach().flatten().numpy(), (W2 * grads[1]).abs().detach().flatten().numpy()])
    keep = round(0.25 * scores.size)
    kept = np.concatenate([m.flatten().numpy() for m in masks]).astype(bool)
    assert kept.sum() == keep
    assert scores[kept].min() >= np.sort(scores)[::-1][keep - 1]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: layer_rates(3, rate=1.0), "rate = 1.0 is not allowed"),
    (lambda: magnitude_prune(_weights(), [torch.ones(30, 40)], [0.2]), "rates = [0.2] is not allowed"),
    (lambda: snip_masks(_weights(), _weights(), density=0.0), "density = 0.0 is not allowed"),
])
def test_bad_values_are_named(call, message):
    with pytest.raises(ParameterError) as err:
        call()
    assert str(err.value).startswith(message), str(err.value)


def test_a_ticket_set_in_the_engine_zeroes_exactly_its_masked_weights_and_keeps_them_zero():
    batch = MLPBatch(6, [8, 5], 3, depth=2, seeds=0, device="cpu")
    weights = weights_of(batch, 1)
    assert [tuple(W.shape) for W in weights] == [(5, 6), (5, 5), (3, 5)]
    masks = magnitude_prune(weights, [torch.ones_like(W) for W in weights], [0.5, 0.5, 0.5])
    set_ticket(batch, 1, masks)
    for W, old, mask in zip(weights_of(batch, 1), weights, masks):
        assert torch.equal(W, old * mask)  # survivors untouched, the rest zero
    with torch.no_grad():
        batch.flat.add_(1.0)  # any update...
    batch.apply_masks()  # ...is masked again, as the trainer does after every step
    assert all(((W != 0) <= (mask != 0)).all() for W, mask in zip(weights_of(batch, 1), masks))
    assert all((W != 0).all() for W in weights_of(batch, 0))  # the other model is not masked
    with pytest.raises(ParameterError, match="masks = '2 masks'"):
        set_ticket(batch, 0, masks[:2])


def _tiny_data(n=60, d=6, classes=3, seed=0, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=dtype)
    return X, torch.randint(0, classes, (n,), generator=g)


@pytest.mark.parametrize(("optimizer", "momentum"), [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.0)])
def test_batched_masked_training_equals_torch_prune_per_model_and_pruned_weights_stay_zero(optimizer, momentum):
    X, y = _tiny_data(dtype=torch.float64)
    batch = MLPBatch(6, [8, 5], 3, depth=2, seeds=3, device="cpu", dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    tickets = [random_masks_like([torch.ones_like(W) * (torch.rand(W.shape, generator=g) < 0.5) for W in weights_of(batch, m)], g)
               for m in range(2)]
    references = []
    for m, ticket in enumerate(tickets):
        set_ticket(batch, m, ticket)
        net = batch.to_sequential(m)
        for linear, mask in zip([l for l in net if isinstance(l, torch.nn.Linear)], ticket):
            prune.custom_from_mask(linear, "weight", mask)  # weight = weight_orig * mask
        references.append(net)
    kwargs = {"steps": 40, "batch_size": 16, "optimizer": optimizer, "lr": 0.05, "momentum": momentum, "weight_decay": 1e-2}
    train(batch, X, y, X, y, progress=False, **kwargs)
    for m, (net, ticket) in enumerate(zip(references, tickets)):
        train_sequential(net, X, y, X, y, **kwargs)
        linears = [l for l in net if isinstance(l, torch.nn.Linear)]
        for W, linear, mask in zip(weights_of(batch, m), linears, ticket):
            assert torch.equal(W[mask == 0], torch.zeros(int((mask == 0).sum()), dtype=W.dtype))  # exactly zero
            torch.testing.assert_close(W, linear.weight.detach(), atol=1e-10, rtol=0)  # float64: summation order only


def test_training_flops_match_a_hand_count_and_torch_flop_counter():
    masks = [torch.tensor([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 0, 0]]), torch.tensor([[1, 0, 0, 1], [0, 1, 0, 0]])]
    # first layer: 5 kept, forward 2*5 + weight grad 2*5; second: 3 kept, forward, weight grad and input grad 2*3 each
    assert training_flops(masks, 10) == 10 * (4 * 5 + 6 * 3)
    batch = MLPBatch(40, [16], 10, depth=2, seeds=0, device="cpu")
    net = batch.to_sequential(0)
    x, target = torch.randn(32, 40), torch.randint(0, 10, (32,))
    with FlopCounterMode(display=False) as counter:  # torch's own count of one dense training step's matmuls
        torch.nn.functional.cross_entropy(net(x), target).backward()
    ones = [torch.ones_like(W) for W in weights_of(batch, 0)]
    assert training_flops(ones, 32) == counter.get_total_flops()


def test_imp_rounds_prune_at_the_stated_rates_and_rewind_to_the_right_step():
    X, y = _tiny_data()
    batch = MLPBatch(6, [8] * 4, 3, depth=2, seeds=[0, 1, 0, 1], device="cpu")
    init = batch.flat.detach().clone()
    kwargs = {"steps": 12, "batch_size": 20, "optimizer": "adam", "lr": 0.01}
    run = iterative_magnitude_pruning(batch, X, y, X, y, 3, [0, 0, 5, 5], **kwargs)
    expected = [[48, 64, 24]]  # weights per layer: 6*8, 8*8, 8*3; rounds remove round(rate * remaining)
    for _ in range(3):
        expected.append([c - round(r * c) for c, r in zip(expected[-1], [0.2, 0.2, 0.1])])
    assert run.layer_counts.tolist() == expected
    assert np.allclose(run.density, np.array(expected).sum(1) / 136)
    for r in range(1, 4):
        for m in range(4):
            assert counts(run.masks[r][m]) == expected[r]
            assert all(not (new.bool() & ~old.bool()).any() for new, old in zip(run.masks[r][m], run.masks[r - 1][m]))
    owner = model_of_entry(batch)
    assert torch.equal(torch.as_tensor(run.rewind)[np.isin(owner, [0, 1])], init[np.isin(owner, [0, 1])])
    reference = MLPBatch(6, [8] * 4, 3, depth=2, seeds=[0, 1, 0, 1], device="cpu")
    train(reference, X, y, X, y, progress=False, **{**kwargs, "steps": 5})  # late rewinding: the weights after 5 steps
    late = np.isin(owner, [2, 3])
    torch.testing.assert_close(torch.as_tensor(run.rewind)[late], reference.flat.detach()[late])
    for m in range(4):  # round 2 again, by hand: mask, rewind, train
        set_ticket(batch, m, run.masks[2][m])
    load_flat(batch, run.rewind)
    again = train(batch, X, y, X, y, progress=False, **kwargs)
    np.testing.assert_allclose(again["test_error"][-1], run.test_error[2, -1])
    np.testing.assert_allclose(batch.flat.detach().numpy(), run.final[2], atol=1e-6)


def test_train_snapshots_are_the_parameters_after_those_steps_and_evaluate_matches_train():
    X, y = _tiny_data()
    batch = MLPBatch(6, [8, 4], 3, seeds=0, device="cpu")
    result = train(batch, X, y, X, y, steps=7, batch_size=16, lr=0.1, snapshot_steps=[0, 3, 7], progress=False)
    assert result["snapshots"].shape == (3, batch.flat.numel())
    np.testing.assert_array_equal(result["snapshots"][-1], batch.flat.detach().numpy())
    np.testing.assert_allclose(evaluate(batch, X, y)["error"], result["test_error"][-1])
    again = MLPBatch(6, [8, 4], 3, seeds=0, device="cpu")
    np.testing.assert_array_equal(result["snapshots"][0], again.flat.detach().numpy())
    train(again, X, y, X, y, steps=3, batch_size=16, lr=0.1, progress=False)
    np.testing.assert_allclose(result["snapshots"][1], again.flat.detach().numpy(), atol=1e-7)
    with pytest.raises(ParameterError, match="snapshot_steps"):
        train(batch, X, y, X, y, steps=3, snapshot_steps=[5], progress=False)


def test_interpolation_ends_are_the_two_networks_and_the_barrier_is_max_minus_mean_of_ends():
    X, y = _tiny_data()
    batch = MLPBatch(6, [8, 8], 3, seeds=0, device="cpu")
    start = batch.flat.detach().clone()
    train(batch, X, y, X, y, steps=20, batch_size=16, lr=0.1, progress=False)
    end = batch.flat.detach().clone()
    errors = interpolation_errors(batch, start, end, X, y, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(errors[-1], evaluate(batch, X, y)["error"])
    load_flat(batch, start)
    np.testing.assert_allclose(errors[0], evaluate(batch, X, y)["error"])
    np.testing.assert_allclose(error_barrier(np.array([[0.1, 0.2], [0.3, 0.2], [0.2, 0.4]])), [0.15, 0.1])
    with pytest.raises(ParameterError, match="vector.shape"):
        load_flat(batch, start[:-1])


def test_early_bird_fires_when_a_window_of_consecutive_distances_is_small():
    base = torch.zeros(100)
    def mask(ones):  # the first `ones` entries kept
        m = base.clone()
        m[:ones] = 1
        return [m]
    sequence = [mask(k) for k in (50, 30, 20, 15, 14, 13, 12, 12, 12)]  # distances .2 .1 .05 .01 .01 .01 0 0
    assert early_bird_epoch(sequence, threshold=0.1, window=3) == 5  # distances after epochs 3, 4, 5 all < 0.1
    assert early_bird_epoch(sequence, threshold=0.1, window=5) == 7
    assert early_bird_epoch(sequence, threshold=0.001, window=3) is None


def test_keep_largest_keeps_exact_counts_of_the_largest_scores():
    scores = _weights()
    masks = keep_largest([S.abs() for S in scores], [100, 7, 0])
    assert counts(masks) == [100, 7, 0]
    for S, m in zip(scores[:2], masks[:2]):
        assert S.abs()[m.bool()].min() >= S.abs()[~m.bool()].max()
    with pytest.raises(ParameterError, match="keep = "):
        keep_largest(scores, [2000, 1, 1])


def test_compare_tickets_prunes_every_method_to_imps_counts():
    X, y = _tiny_data(n=80)
    found = compare_tickets([0, 1], 8, X, y, X, y, rounds=3, levels=[1, 3], num_classes=3,
                            steps=12, batch_size=20, optimizer="adam", lr=0.01)
    assert set(found.accuracy) == set(METHODS)
    assert all(a.shape == (2, 2) for a in found.accuracy.values())
    for i, k in enumerate(found.levels):
        for s in range(2):
            for method in METHODS:
                kept = counts(found.masks[method][i][s])
                if method == "SNIP":  # one global threshold: the same total
                    assert sum(kept) == round(found.density[i] * 136)
                else:
                    assert kept == found.imp.layer_counts[k].tolist(), method
    assert found.mask_distances.shape == (2, 2, 3)  # 80 examples / 20 = 4 steps per epoch: 3 epochs in 12 steps
    assert ((found.early_bird_epoch == -1) | (found.early_bird_epoch >= 1)).all()
    with pytest.raises(ParameterError, match="levels = "):
        compare_tickets([0], 8, X, y, X, y, rounds=3, levels=[4], num_classes=3, steps=4)
