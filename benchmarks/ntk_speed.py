"""Benchmark: the library's empirical NTK (torch.func) against a per-example autograd loop.

Computes the n x n empirical NTK of one ReLU network in the NTK parameterization
(``overparam_lib.ntk``) two ways, in one run on one machine, on the same network and inputs:

  (a) ``overparam_lib.ntk.empirical_ntk``: ``vmap`` over examples of ``jacrev``, then the
      contraction ``sum_W J_W J_W^T``, one weight matrix at a time;
  (b) the loop: for each example ``torch.autograd.grad`` of its output in every weight, the
      gradients flattened into the rows of J, then ``J J^T``.

It checks that the two kernels agree, then prints a markdown table row: the machine (CPU
model or GPU name, threads), the sizes, the median and range of each method's seconds over
the repeats, their ratio (of medians), and each method's GFLOP/s counting
``n * 3 * 2P`` for the Jacobian (a forward and a backward pass per example, P parameters)
and ``2 n^2 P`` for the contraction.

    python benchmarks/ntk_speed.py                          # CPU, float32, the defaults below
    python benchmarks/ntk_speed.py --device cuda --width 2048 --points 256
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from common import machine, sync
from overparam_lib.data import unit_sphere
from overparam_lib.device import resolve_device
from overparam_lib.ntk import empirical_ntk, init_network, network_output, num_parameters


def loop_ntk(weights: list[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """The reference: one autograd call per example, its gradient a row of J, then ``J J^T``."""
    params = [W.detach().requires_grad_(True) for W in weights]
    rows = []
    for x in X:
        grads = torch.autograd.grad(network_output(params, x[None])[0], params)
        rows.append(torch.cat([g.flatten() for g in grads]))
    J = torch.stack(rows)
    return J @ J.T


def timed(compute, device: torch.device, repeats: int) -> tuple[list[float], torch.Tensor]:
    """Seconds of each of ``repeats`` runs after one warm-up run, and the last result."""
    result = compute()
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        result = compute()
        sync(device)
        times.append(time.perf_counter() - start)
    return times, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=512, help="hidden width (default 512)")
    parser.add_argument("--depth", type=int, default=2, help="hidden layers (default 2)")
    parser.add_argument("--points", type=int, default=128, help="examples n: the kernel is n x n (default 128)")
    parser.add_argument("--input-dim", type=int, default=16, help="input dimension d (default 16)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each method (default 5)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    parser.add_argument("--device", default="auto", help='"auto", "cpu", "cuda" (default auto)')
    args = parser.parse_args()
    device = resolve_device(args.device)
    dtype = getattr(torch, args.dtype)
    X = unit_sphere(args.points, args.input_dim, seed=0).to(device, dtype)
    weights = [W.to(dtype) for W in init_network(args.input_dim, [args.width] * args.depth, seed=1, device=device)]
    P, n = num_parameters(weights), args.points
    library_times, library_kernel = timed(lambda: empirical_ntk(weights, X), device, args.repeats)
    loop_times, loop_kernel = timed(lambda: loop_ntk(weights, X), device, args.repeats)
    gap = float((library_kernel - loop_kernel).norm() / loop_kernel.norm())
    tolerance = 1e-5 if dtype == torch.float32 else 1e-12
    if gap > tolerance:
        raise SystemExit(f"the two kernels differ: relative Frobenius gap {gap:.1e} > {tolerance:g}")
    flops = n * 3 * 2 * P + 2 * n * n * P
    library, loop = statistics.median(library_times), statistics.median(loop_times)
    print(f"kernels agree: relative gap {gap:.1e}")
    print("| machine | network | n | P | dtype | torch.func s (median, range) | loop s (median, range) | ratio "
          "| torch.func GFLOP/s | loop GFLOP/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {machine(device)} | {args.input_dim}-{'-'.join([str(args.width)] * args.depth)}-1 | {n} | {P:,} | {args.dtype} "
          f"| {library:.4f} ({min(library_times):.4f}-{max(library_times):.4f}) "
          f"| {loop:.4f} ({min(loop_times):.4f}-{max(loop_times):.4f}) | {loop / library:.1f}x "
          f"| {flops / library / 1e9:.1f} | {flops / loop / 1e9:.1f} |")


if __name__ == "__main__":
    main()
