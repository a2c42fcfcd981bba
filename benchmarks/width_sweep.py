"""Benchmark: the book's deep-double-descent sweep, batched engine vs the plain per-model loop.

Trains the sweep of ``notebooks/deep_double_descent.ipynb`` (its widths, seeds, label-noise
levels, batch size, optimizer, on MNIST-1D) for a fixed number of steps two ways, in one run
on one machine:

  (a) ``overparam_lib.train.train``: every model in one batched step;
  (b) the plain loop: for each model an ``nn.Sequential`` and a ``torch.optim`` optimizer,
      trained alone for the same steps on the same minibatches.

It prints models x steps per second for each, their ratio, the engine's useful GFLOP/s
(the FLOPs of the models' own matmuls: forward 2*fan_in*fan_out per layer per example,
backward twice that; zero padding not counted) and the machine's float32 matmul GFLOP/s
measured on a large square product, as a markdown table row.

    python benchmarks/width_sweep.py                   # ci profile (the notebook's defaults)
    python benchmarks/width_sweep.py --profile full    # the full profile's sweep
    python benchmarks/width_sweep.py --steps 100 --sequential-steps 20
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from overparam_lib.data import mnist1d_tensors
from overparam_lib.device import resolve_device
from overparam_lib.models import MLPBatch
from overparam_lib.configs import configure
from overparam_lib.configs.double_descent import DeepDoubleDescentConfig
from overparam_lib.sweeps import sweep_labels
from overparam_lib.train import batch_indices, train


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_gflops(device: torch.device, size: int, repeats: int = 10) -> float:
    """Best float32 GFLOP/s of a (size x size) @ (size x size) product over ``repeats`` runs."""
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    best = float("inf")
    for _ in range(repeats + 2):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def time_engine(config, X, Y, X_test, y_test, steps: int, repeats: int) -> tuple[float, MLPBatch]:
    """Seconds for ``steps`` engine steps: the best run of 2*steps minus the best run of steps,
    so model construction and the metric evaluations ``train`` does at both ends cancel."""
    kwargs = dict(batch_size=config.batch_size, optimizer=config.optimizer, lr=config.lr, progress=False)
    best = {3: float("inf"), steps: float("inf"), 2 * steps: float("inf")}
    for n in [3] + [steps, 2 * steps] * repeats:  # the first run warms up
        model = MLPBatch(X.shape[1], config.model_widths, 10, seeds=config.model_seeds, device=X.device)
        sync(X.device)
        start = time.perf_counter()
        train(model, X, Y, X_test, y_test, steps=n, **kwargs)
        sync(X.device)
        best[n] = min(best[n], time.perf_counter() - start)
    return best[2 * steps] - best[steps], model


def time_sequential(config, engine: MLPBatch, X, Y, steps: int, repeats: int) -> float:
    """The plain loop: one nn.Sequential + torch.optim optimizer per model, one model after another
    (best of ``repeats`` runs)."""
    return min(_sequential_once(config, engine, X, Y, steps) for _ in range(repeats))


def _sequential_once(config, engine: MLPBatch, X, Y, steps: int) -> float:
    optimizers = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}
    sync(X.device)
    start = time.perf_counter()
    for m in range(engine.num_models):
        net = engine.to_sequential(m)
        opt = optimizers[config.optimizer](net.parameters(), lr=config.lr)
        for idx in batch_indices(X.shape[0], config.batch_size, steps, seed=0):
            loss = torch.nn.functional.cross_entropy(net(X[idx]), Y[m, idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    sync(X.device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="ci", choices=["ci", "full"])
    parser.add_argument("--steps", type=int, default=200, help="engine steps timed")
    parser.add_argument("--sequential-steps", type=int, default=50, help="steps per model timed in the plain loop")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each; the best counts")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    device = resolve_device(args.device)
    config = configure(DeepDoubleDescentConfig, {"profile": args.profile, "device": str(device)})
    X, y, X_test, y_test = mnist1d_tensors(config.n_train, device, config.num_test)
    y = y.cpu()
    Y = sweep_labels(y, config.noise, config.num_seeds, config.seed, len(config.widths)).to(device)  # (M, n)

    engine_s, engine = time_engine(config, X, Y, X_test, y_test, args.steps, args.repeats)
    sequential_s = time_sequential(config, engine, X, Y, args.sequential_steps, args.repeats)
    M = engine.num_models
    engine_rate = M * args.steps / engine_s
    sequential_rate = M * args.sequential_steps / sequential_s
    useful = 3 * engine.useful_flops_per_example() * config.batch_size * args.steps / engine_s / 1e9
    peak = matmul_gflops(device, 4096 if device.type == "cuda" else 1024)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"
    print(f"sweep: profile {config.profile}, {M} models (widths {min(config.model_widths)}-{max(config.model_widths)}, "
          f"{len(config.noise)} noise levels, {config.num_seeds} seed(s)), batch {config.batch_size}, {config.optimizer}, "
          f"{len(engine.buckets)} width buckets; device {device} ({name}); cpu count {os.cpu_count()}")
    print(f"engine {args.steps} steps in {engine_s:.2f} s; plain loop {args.sequential_steps} steps x {M} models "
          f"in {sequential_s:.2f} s (best of {args.repeats})")
    print("| profile | device | models | engine models·steps/s | plain loop models·steps/s | ratio | engine useful GFLOP/s | measured matmul GFLOP/s | fraction |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {config.profile} | {device.type} | {M} | {engine_rate:,.0f} | {sequential_rate:,.0f} | {engine_rate / sequential_rate:.1f}x "
          f"| {useful:.1f} | {peak:.1f} | {useful / peak:.0%} |")


if __name__ == "__main__":
    main()
