"""Lottery tickets: masks (magnitude, random, SNIP), iterative magnitude pruning with rewinding,
early-bird detection, linear interpolation between networks, and training FLOPs.

A ticket is a list of 0/1 masks, one per weight matrix, in the layout the engine's
:meth:`overparam_lib.models.MLPBatch.set_mask` takes, ``(fan_out, fan_in)``. Iterative
magnitude pruning {cite}`FrankleLottery2019` removes, in each round and in each layer,
a fixed fraction of the weights still present, those of smallest magnitude (the output
layer at half the rate); the controls keep the same number of weights per layer at
random positions; SNIP {cite}`LeeSNIP2019` scores each weight at initialization by
``|w * dL/dw|`` and keeps the globally largest; early-bird tickets {cite}`YouDrawing2019`
are detected when the masks of consecutive epochs differ in few places.

:func:`iterative_magnitude_pruning` runs the rounds through the batched engine: every
seed and rewind point is one model of an :class:`~overparam_lib.models.MLPBatch`, its
mask held by the engine after every optimizer step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import torch

from overparam_lib.errors import ParameterError, check_int, check_real
from overparam_lib.models import MLPBatch
from overparam_lib.train import evaluate, train


def layer_rates(num_layers: int, rate: float = 0.2, output_rate: float | None = None) -> list[float]:
    """The fraction of remaining weights each layer loses per round: ``rate``, and ``rate / 2``
    (or ``output_rate``) for the last (output) layer, as Frankle & Carbin prune their MLPs."""
    check_int("num_layers", num_layers)
    if check_real("rate", rate) >= 1:
        raise ParameterError("rate", rate, "a fraction in [0, 1)")
    last = rate / 2 if output_rate is None else output_rate
    if check_real("output_rate", last) >= 1:
        raise ParameterError("output_rate", output_rate, "a fraction in [0, 1)")
    return [rate] * (num_layers - 1) + [last]


def imp_layer_counts(sizes: Sequence[int], rounds: int, rate: float = 0.2) -> np.ndarray:
    """Weights each layer keeps after each IMP round, (rounds + 1, L): a layer of ``c`` remaining
    weights loses ``round(rate * c)`` per round (the output layer at half the rate), as
    :func:`magnitude_prune` removes them, whatever the weights are."""
    rates = layer_rates(len(sizes), rate)
    out = [list(sizes)]
    for _ in range(check_int("rounds", rounds, minimum=0)):
        out.append([c - round(r * c) for c, r in zip(out[-1], rates)])
    return np.array(out)


def magnitude_prune(weights: list[torch.Tensor], masks: list[torch.Tensor], rates: list[float]) -> list[torch.Tensor]:
    """One round of layer-wise magnitude pruning.

    Args:
        weights: one matrix per layer (any shape).
        masks: the current 0/1 masks, shaped like ``weights``.
        rates: per layer, the fraction of its *remaining* weights to remove (rounded to
            the nearest count).

    Returns:
        New masks: in each layer the ``round(rate * remaining)`` remaining weights of
        smallest ``|w|`` are set to 0 (ties go to the lower flat index).
    """
    if not len(weights) == len(masks) == len(rates):
        raise ParameterError("rates", rates, f"one rate per layer ({len(weights)} layers, {len(masks)} masks)")
    pruned = []
    for W, mask, rate in zip(weights, masks, rates):
        if W.shape != mask.shape:
            raise ParameterError("masks", tuple(mask.shape), f"the shape of its weights, {tuple(W.shape)}")
        alive = mask.flatten().bool()
        remove = round(rate * int(alive.sum()))
        order = torch.where(alive, W.detach().flatten().abs(), torch.inf)  # removed weights sort last
        # stable sort: equal magnitudes leave in index order, the same on every device
        victims = torch.sort(order, stable=True).indices[:remove]
        new = alive.clone()
        new[victims] = False
        pruned.append(new.view(W.shape).to(mask.dtype))
    return pruned


def keep_largest(scores: list[torch.Tensor], keep: Sequence[int]) -> list[torch.Tensor]:
    """One-shot masks: in each layer, 1 at the ``keep[l]`` entries of largest score (ties to the lower index)."""
    if len(keep) != len(scores):
        raise ParameterError("keep", list(keep), f"one count per layer ({len(scores)} layers)")
    out = []
    for S, k in zip(scores, keep):
        if not 0 <= k <= S.numel():
            raise ParameterError("keep", list(keep), f"counts in [0, {S.numel()}] for a layer of that size")
        kept = torch.zeros(S.numel(), dtype=torch.bool, device=S.device)
        kept[torch.sort(S.detach().flatten(), descending=True, stable=True).indices[:k]] = True
        out.append(kept.view(S.shape).to(S.dtype))
    return out


def counts(masks: list[torch.Tensor]) -> list[int]:
    """The number of weights each layer keeps."""
    return [int(m.sum()) for m in masks]


def random_masks_like(masks: list[torch.Tensor], generator: torch.Generator) -> list[torch.Tensor]:
    """Masks with the same number of ones per layer as ``masks``, at uniformly random positions (drawn on the CPU)."""
    out = []
    for mask in masks:
        keep = int(mask.sum())
        order = torch.randperm(mask.numel(), generator=generator)[:keep]
        new = torch.zeros(mask.numel(), dtype=mask.dtype)
        new[order] = 1
        out.append(new.view(mask.shape).to(mask.device))
    return out


def snip_masks(weights: list[torch.Tensor], grads: list[torch.Tensor], density: float) -> list[torch.Tensor]:
    """SNIP: keep the ``density`` fraction of all weights with the largest ``|w * g|``, one global threshold."""
    if not 0 < check_real("density", density) <= 1:
        raise ParameterError("density", density, "a fraction in (0, 1]")
    scores = torch.cat([(W.detach() * g.detach()).abs().flatten() for W, g in zip(weights, grads)])
    keep = max(1, round(density * scores.numel()))
    kept = torch.zeros(scores.numel(), dtype=torch.bool, device=scores.device)
    kept[torch.sort(scores, descending=True, stable=True).indices[:keep]] = True
    out, start = [], 0
    for W in weights:
        out.append(kept[start : start + W.numel()].view(W.shape).to(W.dtype))
        start += W.numel()
    return out


def density(masks: list[torch.Tensor]) -> float:
    """The fraction of weights left over all layers."""
    return float(sum(m.sum() for m in masks) / sum(m.numel() for m in masks))


def mask_distance(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    """Normalized Hamming distance: the fraction of all weights where the two masks differ (early-bird's test)."""
    if [m.shape for m in a] != [m.shape for m in b]:
        raise ParameterError("b", [tuple(m.shape) for m in b], f"the shapes of a, {[tuple(m.shape) for m in a]}")
    return float(sum((x != y).sum() for x, y in zip(a, b)) / sum(m.numel() for m in a))


def weights_of(batch: MLPBatch, model: int) -> list[torch.Tensor]:
    """Copies of one model's weight matrices, ``(fan_out, fan_in)`` each, as the masks are laid out."""
    return [W.detach().clone() for W, _ in batch.layers_of(model)]


def set_ticket(batch: MLPBatch, model: int, masks: list[torch.Tensor]) -> None:
    """Hold ``model``'s weights at zero where its masks are 0 (one mask per layer), now and after every step."""
    if len(masks) != batch.depth + 1:
        raise ParameterError("masks", f"{len(masks)} masks", f"one per layer ({batch.depth + 1})")
    for layer, mask in enumerate(masks):
        batch.set_mask(model, layer, mask)


def load_flat(batch: MLPBatch, vector: np.ndarray | torch.Tensor) -> None:
    """Set every parameter of ``batch`` to ``vector`` (a snapshot of ``batch.flat``, e.g. from
    :func:`~overparam_lib.train.train`'s ``snapshot_steps``), then re-apply the masks."""
    vector = torch.as_tensor(vector)
    if tuple(vector.shape) != tuple(batch.flat.shape):
        raise ParameterError("vector.shape", tuple(vector.shape), f"the shape of batch.flat, {tuple(batch.flat.shape)}")
    with torch.no_grad():
        batch.flat.copy_(vector.to(batch.flat))
    batch.apply_masks()


def model_of_entry(batch: MLPBatch) -> np.ndarray:
    """For each entry of ``batch.flat``, the model it belongs to (model order, not bucket order)."""
    return np.asarray(batch.order)[batch.owner.cpu().numpy()]


@dataclass(frozen=True)
class PruningRun:
    """The rounds of :func:`iterative_magnitude_pruning`; R rounds after the dense round 0, M models."""

    density: np.ndarray  # (R + 1,) fraction of the weights left in each round (equal for every model)
    layer_counts: np.ndarray  # (R + 1, L) weights kept per layer
    step: np.ndarray  # (T,) steps at which the errors were recorded
    test_error: np.ndarray  # (R + 1, T, M) test error during each round's training
    train_error: np.ndarray  # (R + 1, T, M)
    masks: list[list[list[torch.Tensor]]]  # round -> model -> layer -> 0/1 mask (fan_out, fan_in), on the CPU
    rewind: np.ndarray  # (P,) the parameter vector each model is rewound to (entries as in batch.flat)
    final: np.ndarray  # (R + 1, P) the parameters at the end of each round
    dense_snapshots: np.ndarray  # (S, P) the dense round's parameters after each of its ``dense_snapshot_steps``


def iterative_magnitude_pruning(
    batch: MLPBatch,
    X: torch.Tensor,
    y: torch.Tensor,
    X_test: torch.Tensor,
    y_test: torch.Tensor,
    rounds: int,
    rewind_steps: Sequence[int],
    rate: float = 0.2,
    progress: bool | None = False,
    dense_snapshot_steps: Sequence[int] = (),
    **train_kwargs,
) -> PruningRun:
    """Iterative magnitude pruning with rewinding {cite}`FrankleLottery2019,FrankleLinear2020`.

    Round 0 trains every model of ``batch`` dense and keeps its weights at its rewind step.
    Each later round prunes, per layer, ``rate`` of the weights still present (the output
    layer ``rate / 2``, see :func:`layer_rates`) by their magnitude at the end of the
    previous round, resets the survivors to their values at the rewind step (0: the
    initialization; later: "late rewinding") and trains again with the same minibatch order.

    Args:
        batch: M models, dense, at their initialization.
        X, y, X_test, y_test: the data, as :func:`~overparam_lib.train.train` takes it.
        rounds: pruning rounds R after the dense round.
        rewind_steps: for each model, the step its survivors are reset to.
        rate: fraction of the remaining weights a hidden layer loses per round.
        progress: show a bar per round.
        dense_snapshot_steps: steps of the dense round after which to keep the parameters too
            (e.g. every epoch, for early-bird masks).
        **train_kwargs: ``steps``, ``batch_size``, ``optimizer``, ``lr``, ... for every round.

    Returns:
        A :class:`PruningRun`.
    """
    check_int("rounds", rounds)
    steps = train_kwargs["steps"]
    if len(rewind_steps) != batch.num_models or not all(0 <= s <= steps for s in rewind_steps):
        raise ParameterError("rewind_steps", list(rewind_steps), f"one step in [0, steps = {steps}] per model ({batch.num_models})")
    rates = layer_rates(batch.depth + 1, rate)
    owner = model_of_entry(batch)
    at = sorted(set(rewind_steps) | set(dense_snapshot_steps))
    masks = [[torch.ones_like(W).cpu() for W in weights_of(batch, m)] for m in range(batch.num_models)]
    history, finals, all_masks, rewind, dense_snapshots = [], [], [], None, None
    for round_ in range(rounds + 1):
        if round_:
            masks = [magnitude_prune([W.cpu() for W in weights_of(batch, m)], masks[m], rates) for m in range(batch.num_models)]
            load_flat(batch, rewind)
            for m, ticket in enumerate(masks):
                set_ticket(batch, m, [mask.to(batch.flat.device) for mask in ticket])
        result = train(batch, X, y, X_test, y_test, snapshot_steps=() if round_ else at, progress=progress, **train_kwargs)
        if not round_:  # each entry of flat from its model's rewind step
            which = np.searchsorted(at, np.asarray(rewind_steps)[owner])
            rewind = result["snapshots"][which, np.arange(owner.size)]
            dense_snapshots = result["snapshots"][np.searchsorted(at, sorted(set(dense_snapshot_steps)))]
        history.append(result)
        finals.append(batch.flat.detach().cpu().numpy().copy())
        all_masks.append(masks)
    layer_counts = np.array([counts(round_masks[0]) for round_masks in all_masks])
    total = sum(m.numel() for m in all_masks[0][0])
    return PruningRun(
        density=layer_counts.sum(1) / total, layer_counts=layer_counts, step=history[0]["step"],
        test_error=np.stack([h["test_error"] for h in history]), train_error=np.stack([h["train_error"] for h in history]),
        masks=all_masks, rewind=rewind, final=np.stack(finals), dense_snapshots=dense_snapshots)


def interpolation_errors(
    batch: MLPBatch, start: np.ndarray, end: np.ndarray, X: torch.Tensor, y: torch.Tensor, alphas: Sequence[float]
) -> np.ndarray:
    """Error of every model along the straight line ``(1 - a) * start + a * end`` between two parameter
    vectors of ``batch`` (linear mode connectivity {cite}`FrankleLinear2020`): (len(alphas), M).

    Masked weights are 0 at both ends and stay 0 on the line. ``batch`` is left at ``end``.
    """
    start, end = torch.as_tensor(start), torch.as_tensor(end)
    errors = []
    for a in alphas:
        load_flat(batch, (1 - a) * start + a * end)
        errors.append(evaluate(batch, X, y)["error"])
    return np.stack(errors)


def error_barrier(errors: np.ndarray) -> np.ndarray:
    """Frankle et al.'s instability: the largest error along the line minus the mean of its two ends, per model."""
    return errors.max(0) - (errors[0] + errors[-1]) / 2


def early_bird_epoch(masks: list[list[torch.Tensor]], threshold: float = 0.1, window: int = 5) -> int | None:
    """The first epoch at which the last ``window`` distances between consecutive masks are all below
    ``threshold`` (You et al.'s stopping rule; ``masks[e]``: the mask drawn after epoch e), or None."""
    check_int("window", window)
    distances = [mask_distance(a, b) for a, b in pairwise(masks)]  # distances[e - 1]: epochs e - 1 and e
    for epoch in range(window, len(masks)):
        if max(distances[epoch - window : epoch]) < threshold:
            return epoch
    return None


def flops_per_example(kept: Sequence[int]) -> int:
    """:func:`training_flops` per example for layers that keep ``kept`` weights each."""
    return sum((4 if layer == 0 else 6) * int(k) for layer, k in enumerate(kept))


def training_flops(masks: list[torch.Tensor], examples: int) -> int:
    """Matrix-multiply FLOPs (2 per multiply-add) to train on ``examples`` examples with these masks,
    counting only the weights kept, as a sparse kernel would.

    Per example and layer with k kept weights: forward 2k, weight gradient 2k, and the
    gradient with respect to the layer's input 2k for every layer but the first (the data
    needs none). Biases, ReLU, the loss and the optimizer update (linear in the width) are
    left out. All-ones masks give the dense count, which is what the engine's dense
    matmuls execute for any mask.
    """
    return flops_per_example(counts(masks)) * check_int("examples", examples, minimum=0)


METHODS = ("IMP", "magnitude at init", "SNIP", "random", "early-bird", "one-shot after training")


@dataclass(frozen=True)
class TicketComparison:
    """Tickets found six ways at IMP's sparsities (see :func:`compare_tickets`); L levels, S seeds."""

    levels: list[int]  # the IMP rounds whose per-layer counts every method keeps
    density: np.ndarray  # (L,) fraction of the weights kept
    accuracy: dict[str, np.ndarray]  # method -> (L, S) test accuracy of its ticket trained from the initialization
    early_bird_epoch: np.ndarray  # (L, S) the epoch at which the early-bird test fired (-1: never; its last mask is used)
    mask_distances: np.ndarray  # (L, S, E) distance between the masks drawn after consecutive epochs
    masks: dict[str, list[list[list[torch.Tensor]]]]  # method -> level -> seed -> per-layer masks (CPU)
    imp: PruningRun  # the IMP run itself, every round; its round 0 is the dense run, snapshotted every epoch


def compare_tickets(
    seeds: Sequence[int], width: int, X: torch.Tensor, y: torch.Tensor, X_test: torch.Tensor, y_test: torch.Tensor,
    rounds: int, levels: Sequence[int], rate: float = 0.2, early_bird_threshold: float = 0.1, early_bird_window: int = 5,
    num_classes: int = 10, mask_seed: int = 0, progress: bool | None = False, **train_kwargs,
) -> TicketComparison:
    """IMP tickets, and tickets found without IMP's rounds, at the same per-layer counts.

    Every ticket is trained, from its seed's initialization, with ``train_kwargs``:

    * **IMP**: iterative magnitude pruning, rewound to initialization (:func:`iterative_magnitude_pruning`);
    * **magnitude at init**: the largest initial weights of each layer;
    * **SNIP** {cite}`LeeSNIP2019`: the largest ``|w dL/dw|`` at initialization on the first ``batch_size`` training examples,
      one global threshold (so its per-layer counts differ, its total is the same);
    * **random**: random positions, the same count per layer;
    * **early-bird** {cite}`YouDrawing2019`: during one dense training run the mask of the largest
      weights of each layer is drawn after every epoch; the first epoch at which the last
      ``early_bird_window`` distances between consecutive masks are all below
      ``early_bird_threshold`` gives the ticket (the last epoch's if it never fires);
    * **one-shot after training**: the same mask drawn at the end of the dense run.
    """
    levels = list(levels)
    if not levels or any(not 1 <= k <= rounds for k in levels):
        raise ParameterError("levels", levels, f"IMP rounds in [1, rounds = {rounds}]")
    S, device = len(seeds), X.device
    epoch = -(-X.shape[0] // (train_kwargs.get("batch_size") or X.shape[0]))
    epochs = list(range(0, train_kwargs["steps"] + 1, epoch))
    batch = MLPBatch(X.shape[1], [width] * S, num_classes, seeds=list(seeds), device=device)
    init = batch.flat.detach().clone()
    # IMP's round 0 is the dense run early birds watch: its snapshot after every epoch gives their masks
    imp = iterative_magnitude_pruning(MLPBatch(X.shape[1], [width] * S, num_classes, seeds=list(seeds), device=device),
                                      X, y, X_test, y_test, rounds, [0] * S, rate, progress, epochs, **train_kwargs)
    epoch_weights = []  # epoch -> seed -> |W| per layer
    for snapshot in imp.dense_snapshots:
        load_flat(batch, snapshot)  # the same layout as IMP's batch, without its masks
        epoch_weights.append([[W.abs().cpu() for W in weights_of(batch, s)] for s in range(S)])
    load_flat(batch, init)
    init_weights = [[W.cpu() for W in weights_of(batch, s)] for s in range(S)]
    g = torch.Generator().manual_seed(mask_seed)
    masks = {method: [] for method in METHODS}
    fired = np.full((len(levels), S), -1)
    distances = np.zeros((len(levels), S, len(epochs) - 1))
    for i, k in enumerate(levels):
        keep = imp.layer_counts[k].tolist()
        masks["IMP"].append(imp.masks[k])
        masks["magnitude at init"].append([keep_largest([W.abs() for W in init_weights[s]], keep) for s in range(S)])
        masks["random"].append([random_masks_like(imp.masks[k][s], g) for s in range(S)])
        masks["SNIP"].append([])
        masks["early-bird"].append([])
        masks["one-shot after training"].append([])
        for s in range(S):
            net = batch.to_sequential(s)  # the seed's initialization, standalone
            first = train_kwargs.get("batch_size") or X.shape[0]
            torch.nn.functional.cross_entropy(net(X[:first]), y[:first]).backward()
            linears = [m for m in net if isinstance(m, torch.nn.Linear)]
            masks["SNIP"][i].append([m.cpu() for m in snip_masks([l.weight for l in linears], [l.weight.grad for l in linears],
                                                                   float(imp.density[k]))])
            per_epoch = [keep_largest(weights[s], keep) for weights in epoch_weights]
            distances[i, s] = [mask_distance(a, b) for a, b in pairwise(per_epoch)]
            e = early_bird_epoch(per_epoch, early_bird_threshold, early_bird_window)
            fired[i, s] = -1 if e is None else e
            masks["early-bird"][i].append(per_epoch[-1 if e is None else e])
            masks["one-shot after training"][i].append(per_epoch[-1])
    others = [method for method in METHODS if method != "IMP"]
    tickets = MLPBatch(X.shape[1], [width] * S * len(levels) * len(others), num_classes,
                       seeds=list(seeds) * len(levels) * len(others), device=device)
    for j, method in enumerate(others):
        for i in range(len(levels)):
            for s in range(S):
                set_ticket(tickets, (j * len(levels) + i) * S + s, [m.to(device) for m in masks[method][i][s]])
    trained = train(tickets, X, y, X_test, y_test, progress=progress, **train_kwargs)
    final = (1 - trained["test_error"][-1]).reshape(len(others), len(levels), S)
    accuracy = {"IMP": 1 - imp.test_error[levels, -1]}
    accuracy.update({method: final[j] for j, method in enumerate(others)})
    return TicketComparison(levels=levels, density=imp.density[levels], accuracy=accuracy, early_bird_epoch=fired,
                            mask_distances=distances, masks=masks, imp=imp)
