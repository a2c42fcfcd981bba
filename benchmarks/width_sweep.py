"""Benchmark: the book's deep-double-descent sweep, batched engine vs the plain loop vs vmap per width.

Trains the sweep of ``notebooks/deep_double_descent.ipynb`` (its widths, seeds, label-noise
levels, batch size, optimizer, on MNIST-1D) for a fixed number of steps three ways, in one
run on one machine, on the same minibatches:

  (a) ``overparam_lib.train.train``: every model in one batched step;
  (b) the plain loop: for each model an ``nn.Sequential`` and a ``torch.optim`` optimizer
      (fused, as the engine's), trained alone;
  (c) vmap per width, the recipe of PyTorch's model-ensembling tutorial made to train: the
      models of each width stacked with ``torch.func.stack_module_state``, one
      ``vmap(functional_call)`` forward and one backward per width per step, one
      ``torch.optim`` optimizer over the stacked parameters.

Each is run ``--repeats`` times; the table gives the median and range of the runs (not the
best) in models x steps per second, the engine's ratio to each peer (of medians), the
engine's useful GFLOP/s (the models' own matmuls: forward 2*fan_in*fan_out per layer per
example, backward twice that; zero padding not counted) against the machine's float32
matmul rate on a large square product (sampled after each engine run), and the machine:
CPU model, code path and thread count, or GPU name.

    python benchmarks/width_sweep.py                   # ci profile (the notebook's defaults)
    python benchmarks/width_sweep.py --profile full --steps 100 --sequential-steps 10 --repeats 3
    python benchmarks/width_sweep.py --device cuda --profile full   # on a GPU
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from common import machine, median_range, sync
from overparam_lib.configs import configure
from overparam_lib.configs.double_descent import DeepDoubleDescentConfig
from overparam_lib.data import mnist1d_tensors
from overparam_lib.device import resolve_device
from overparam_lib.models import MLPBatch
from overparam_lib.sweeps import sweep_labels
from overparam_lib.train import batch_indices, train


def make_optimizer(config, params):
    """The sweep's optimizer in its fastest torch.optim form (fused, as the engine's), for the peers."""
    return {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[config.optimizer](params, lr=config.lr, fused=True)


def matmul_gflops(device: torch.device, repeats: int = 3) -> float:
    """Float32 GFLOP/s of a large square product (1024 on a CPU, 4096 on a GPU), median of ``repeats``
    after a warm-up. Sampled between the timed runs, so it sees the machine in the same state."""
    size = 4096 if device.type == "cuda" else 1024
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    rates = []
    for run in range(repeats + 1):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        if run:
            rates.append(2 * size**3 / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


def time_engine(config, X, Y, X_test, y_test, steps: int, repeats: int) -> tuple[list[float], list[float], MLPBatch]:
    """Seconds for ``steps`` engine steps, once per repeat: a run of 2*steps minus a run of steps,
    so model construction, the metric evaluations ``train`` does at both ends and, on CUDA,
    graph capture cancel; and the matmul rate sampled after each repeat."""
    kwargs = dict(batch_size=config.batch_size, optimizer=config.optimizer, lr=config.lr, progress=False)

    def run(n: int) -> float:
        model = MLPBatch(X.shape[1], config.model_widths, 10, seeds=config.model_seeds, device=X.device)
        sync(X.device)
        start = time.perf_counter()
        train(model, X, Y, X_test, y_test, steps=n, **kwargs)
        sync(X.device)
        return time.perf_counter() - start

    run(5)  # warm-up (on CUDA: past the 3 eager steps, into graph capture)
    times, matmul = [], []
    for _ in range(repeats):
        times.append(-run(steps) + run(2 * steps))
        matmul.append(matmul_gflops(X.device))
    return times, matmul, MLPBatch(X.shape[1], config.model_widths, 10, seeds=config.model_seeds, device=X.device)


def time_plain_loop(config, engine: MLPBatch, X, Y, steps: int) -> float:
    """The plain loop: one nn.Sequential + torch.optim optimizer per model, one model after another."""
    sync(X.device)
    start = time.perf_counter()
    for m in range(engine.num_models):
        net = engine.to_sequential(m)
        opt = make_optimizer(config, net.parameters())
        for idx in batch_indices(X.shape[0], config.batch_size, steps, seed=0):
            loss = F.cross_entropy(net(X[idx]), Y[m, idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    sync(X.device)
    return time.perf_counter() - start


def time_vmap_per_width(config, engine: MLPBatch, X, Y, steps: int) -> float:
    """vmap per width: each width's models stacked (stack_module_state), one vmapped
    functional_call per width per step, the models' mean losses summed and backpropagated."""
    groups: dict[int, list[int]] = {}
    for m, width in enumerate(engine.widths):
        groups.setdefault(width, []).append(m)
    stacks = []
    for members in groups.values():
        nets = [engine.to_sequential(m) for m in members]
        params, buffers = stack_module_state(nets)  # leaves of shape (len(members), ...)
        skeleton = copy.deepcopy(nets[0]).to("meta")
        opt = make_optimizer(config, list(params.values()))
        stacks.append((params, buffers, skeleton, opt, Y[members]))

    def run_step(params, buffers, skeleton, x, y):
        return F.cross_entropy(functional_call(skeleton, (params, buffers), (x,)), y)

    sync(X.device)
    start = time.perf_counter()
    for idx in batch_indices(X.shape[0], config.batch_size, steps, seed=0):
        xb = X[idx]
        for params, buffers, skeleton, opt, labels in stacks:
            losses = vmap(run_step, in_dims=(0, 0, None, None, 0))(params, buffers, skeleton, xb, labels[:, idx])
            opt.zero_grad()
            losses.sum().backward()
            opt.step()
    sync(X.device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="ci", choices=["ci", "full"])
    parser.add_argument("--steps", type=int, default=200, help="engine steps timed (default 200)")
    parser.add_argument("--sequential-steps", type=int, default=50,
                        help="steps per model timed in the plain loop and vmap per width (default 50)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each method (default 5)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    device = resolve_device(args.device)
    config = configure(DeepDoubleDescentConfig, {"profile": args.profile, "device": str(device)})
    X, y, X_test, y_test = mnist1d_tensors(config.n_train, device, config.num_test)
    Y = sweep_labels(y.cpu(), config.noise, config.num_seeds, config.seed, len(config.widths)).to(device)  # (M, n)

    engine_s, peak, engine = time_engine(config, X, Y, X_test, y_test, args.steps, args.repeats)
    time_vmap_per_width(config, engine, X, Y, 3)  # warm-up
    loop_s = [time_plain_loop(config, engine, X, Y, args.sequential_steps) for _ in range(args.repeats)]
    vmap_s = [time_vmap_per_width(config, engine, X, Y, args.sequential_steps) for _ in range(args.repeats)]
    M = engine.num_models
    engine_rate = [M * args.steps / s for s in engine_s]
    loop_rate = [M * args.sequential_steps / s for s in loop_s]
    vmap_rate = [M * args.sequential_steps / s for s in vmap_s]
    useful = [3 * engine.useful_flops_per_example() * config.batch_size * args.steps / s / 1e9 for s in engine_s]
    median = statistics.median
    print(f"sweep: profile {config.profile}, {M} models (widths {min(config.model_widths)}-{max(config.model_widths)}, "
          f"{len(config.noise)} noise levels, {config.num_seeds} seed(s)), batch {config.batch_size}, {config.optimizer}, "
          f"{len(engine.buckets)} width buckets; {machine(device)}; cpu count {os.cpu_count()}")
    print(f"{args.repeats} runs each: engine {args.steps} steps, plain loop and vmap {args.sequential_steps} steps per model")
    print("| profile | machine | models | engine models·steps/s | plain loop | vmap per width | engine / loop "
          "| engine / vmap | engine useful GFLOP/s | matmul GFLOP/s | fraction |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {config.profile} | {machine(device)} | {M} | {median_range(engine_rate)} | {median_range(loop_rate)} "
          f"| {median_range(vmap_rate)} | {median(engine_rate) / median(loop_rate):.1f}x "
          f"| {median(engine_rate) / median(vmap_rate):.1f}x | {median_range(useful, '.1f')} | {median_range(peak, '.1f')} "
          f"| {median(useful) / median(peak):.0%} |")


if __name__ == "__main__":
    main()
