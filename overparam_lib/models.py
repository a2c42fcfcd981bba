"""Many ReLU MLPs of different widths and seeds, evaluated as one batched computation.

A sweep (widths x seeds x noise levels) is hundreds of small networks. Looping over
them in Python spends most of the time on interpreter and kernel-launch overhead
and on matrix products too small to use the machine. :class:`MLPBatch` instead
sorts the models by width and stacks models of similar width into *buckets*: each
bucket's layers are single tensors ``(G, fan_out, fan_in)`` (``nn.Linear``'s layout)
zero-padded to the bucket's largest width, and a step runs one batched matmul per layer
per bucket. Activations are feature-major, ``(G, width, B)``: the batch is the long
contiguous dimension of every product; on a CPU the 10-class output layer's weight
gradient is 2.6-4.8x faster than in ``(G, B, width)``.

Zero padding is exact, not approximate: a padded hidden unit has zero incoming
weights and bias, so its pre-activation is 0, ReLU'(0) = 0 in PyTorch and its
outgoing weights are 0; every gradient that touches it is therefore 0 and it stays
0 under SGD, momentum, Adam and weight decay. Each model computes exactly what the
same network built alone would (up to floating-point summation order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import torch
from torch import nn

from overparam_lib.device import generator, resolve_device
from overparam_lib.errors import ParameterError, check_int, check_real


def width_buckets(
    widths: Sequence[int], flops: Callable[[int], float], overhead: float = 50_000.0, threads: int | None = None
) -> list[list[int]]:
    """Group models (sorted by width) into buckets that minimise the estimated cost of a step.

    A bucket of G models padded to width H costs ``overhead + G * flops(H) / efficiency(G)``:
    ``overhead`` stands for the fixed cost of its kernel launches (in FLOPs per example),
    and a batched matmul over G models keeps ``G / (T * ceil(G / T))`` of T threads busy
    (measured: on 2 cores a batch of 3 runs 25% slower per model than a batch of 2 or 4).
    Dynamic programming over the sorted widths finds the best contiguous grouping.

    Args:
        widths: width of each model.
        flops: forward FLOPs per example of one model padded to a width.
        overhead: fixed cost per bucket, in FLOPs per example.
        threads: T (default: ``torch.get_num_threads()``).

    Returns:
        Lists of model indices, by increasing width.
    """
    threads = threads or torch.get_num_threads()
    order = sorted(range(len(widths)), key=lambda i: (widths[i], i))
    sorted_widths = [widths[i] for i in order]

    def cost(G: int, H: int) -> float:
        efficiency = G / (threads * -(-G // threads)) if G > 1 else 1.0
        return overhead + G * flops(H) / efficiency

    best = [0.0] + [float("inf")] * len(order)  # best[j]: cheapest grouping of the j narrowest models
    start = [0] * (len(order) + 1)
    for j in range(1, len(order) + 1):
        for i in range(j):
            c = best[i] + cost(j - i, sorted_widths[j - 1])
            if c < best[j]:
                best[j], start[j] = c, i
    groups, j = [], len(order)
    while j:
        groups.append(order[start[j] : j])
        j = start[j]
    return groups[::-1]


class MLPBatch(nn.Module):
    """M ReLU MLPs ``in_features -> width_m -> ... -> width_m -> num_classes`` trained as one.

    Args:
        in_features: input dimension d.
        widths: hidden width of each of the M models.
        num_classes: outputs C.
        depth: hidden layers per model (2 gives the MNIST-1D authors' ``d-h-h-C`` MLP).
        seeds: one init seed per model, or one int for all (model m then uses ``seeds + m``).
        bucket_overhead: fixed cost per bucket in :func:`width_buckets` (FLOPs per example);
            0 buckets equal widths only.
        device: where the parameters live (see :func:`resolve_device`).
        dtype: parameter dtype.

    Each model's layers are initialised as ``torch.nn.Linear`` does: weights and biases
    uniform in ``+-1/sqrt(fan_in)``, drawn from a CPU generator seeded with the model's seed,
    so a model's initial weights depend only on its width and seed.
    """

    def __init__(
        self,
        in_features: int,
        widths: Sequence[int],
        num_classes: int,
        depth: int = 2,
        seeds: int | Sequence[int] = 0,
        bucket_overhead: float = 50_000.0,
        device: str | torch.device = "auto",
        dtype: torch.dtype = torch.float32,
    ):
        super().__init__()
        widths = list(widths)
        if not widths or any(isinstance(h, bool) or not isinstance(h, int) or h < 1 for h in widths):
            raise ParameterError("widths", widths, "a non-empty list of positive integers")
        seeds = [seeds + m for m in range(len(widths))] if isinstance(seeds, int) else list(seeds)
        if len(seeds) != len(widths):
            raise ParameterError("seeds", seeds, f"one int, or one seed per model ({len(widths)})")
        self.in_features = check_int("in_features", in_features)
        self.num_classes = check_int("num_classes", num_classes)
        self.depth = check_int("depth", depth)
        check_real("bucket_overhead", bucket_overhead)
        self.widths, self.seeds = widths, seeds
        forward_flops = lambda h: sum(2 * i * o for i, o in pairwise(self._layer_sizes(h)))
        self.buckets = width_buckets(widths, forward_flops, bucket_overhead)
        self.order = [m for bucket in self.buckets for m in bucket]  # models in bucket order
        self.position = {m: (b, g) for b, bucket in enumerate(self.buckets) for g, m in enumerate(bucket)}
        device = resolve_device(device)
        tensors = [t.to(dtype) for bucket in self.buckets for layer in self._init_bucket(bucket) for t in layer]
        # One flat parameter holds every weight and bias, so an optimizer step, weight decay,
        # masking and freezing are each one vector operation, not one per bucket and layer.
        # The bucket tensors below are leaves sharing its memory; their gradients are views
        # of its gradient, into which autograd accumulates in place.
        self.flat = nn.Parameter(torch.cat([t.flatten() for t in tensors]).to(device))
        self.flat.grad = torch.zeros_like(self.flat)
        self.owner = torch.empty(self.flat.numel(), dtype=torch.long, device=device)  # entry -> model (bucket order)
        views, offsets, offset, row = [], [], 0, 0
        for b, bucket in enumerate(self.buckets):
            for t in tensors[b * 2 * (depth + 1) : (b + 1) * 2 * (depth + 1)]:
                end = offset + t.numel()
                view = self.flat.detach()[offset:end].view(t.shape).requires_grad_()
                view.grad = self.flat.grad[offset:end].view(t.shape)
                self.owner[offset:end] = torch.arange(row, row + len(bucket), device=device).repeat_interleave(t[0].numel())
                views.append(view)
                offsets.append(offset)
                offset = end
            row += len(bucket)
        self.weights = views[0::2]  # bucket b, layer l -> index b * (depth + 1) + l; (G, fan_out, fan_in)
        self.biases = views[1::2]  # same indexing; (G, fan_out, 1)
        self.weight_offsets = offsets[0::2]  # where each weight tensor starts in self.flat
        self.mask: torch.Tensor | None = None  # like self.flat: 1 where a weight may be nonzero

    def _layer_sizes(self, width: int) -> list[int]:
        return [self.in_features] + [width] * self.depth + [self.num_classes]

    def _init_bucket(self, bucket: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        sizes = self._layer_sizes(max(self.widths[m] for m in bucket))
        layers = [(torch.zeros(len(bucket), o, i, dtype=torch.float64), torch.zeros(len(bucket), o, 1, dtype=torch.float64))
                  for i, o in pairwise(sizes)]  # (G, fan_out, fan_in), (G, fan_out, 1)
        for g, m in enumerate(bucket):
            rng = generator(self.seeds[m])
            model_sizes = self._layer_sizes(self.widths[m])
            for (W, b), fan_in, fan_out in zip(layers, model_sizes[:-1], model_sizes[1:]):
                bound = fan_in**-0.5
                W[g, :fan_out, :fan_in] = torch.empty(fan_out, fan_in, dtype=torch.float64).uniform_(-bound, bound, generator=rng)
                b[g, :fan_out, 0] = torch.empty(fan_out, dtype=torch.float64).uniform_(-bound, bound, generator=rng)
        return layers

    @property
    def num_models(self) -> int:
        return len(self.widths)

    def num_parameters(self) -> list[int]:
        """Parameters of each model (not counting padding)."""
        sizes = [self._layer_sizes(h) for h in self.widths]
        return [sum((i + 1) * o for i, o in pairwise(s)) for s in sizes]

    def _layers(self, b: int) -> range:
        return range(b * (self.depth + 1), (b + 1) * (self.depth + 1))

    def _activations(self, b: int, x: torch.Tensor) -> list[torch.Tensor]:
        """Bucket ``b``'s hidden activations and logits for inputs ``x`` (B, d), feature-major:
        ``[(G, width, B)] * depth + [(G, C, B)]``."""
        first, *rest = self._layers(b)
        W, bias = self.weights[first], self.biases[first]  # (G, H, d), (G, H, 1)
        G, H, d = W.shape
        # the input is shared by every model: the first layer is one (G*H, d) @ (d, B) product
        h = torch.addmm(bias.view(G * H, 1), W.view(G * H, d), x.T).view(G, H, x.shape[0])
        out = []
        for l in rest:
            out.append(torch.relu_(h))  # in place: addmm and baddbmm do not keep their output for backward
            h = torch.baddbmm(self.biases[l], self.weights[l], h)  # (G, fan_out, B)
        return out + [h]

    def bucket_forward(self, b: int, x: torch.Tensor) -> torch.Tensor:
        """Logits of bucket ``b``'s models for inputs ``x`` (B, d) -> (G, B, C)."""
        return self._activations(b, x)[-1].transpose(1, 2)

    def forward(self, x: torch.Tensor, buckets: Sequence[int] | None = None) -> torch.Tensor:
        """Logits of every model (in bucket order, see ``self.order``): (B, d) -> (M, B, C).

        ``buckets`` restricts the computation to those buckets (their models only).
        """
        buckets = range(len(self.buckets)) if buckets is None else buckets
        return torch.cat([self.bucket_forward(b, x) for b in buckets])

    @torch.no_grad()
    def cross_entropy_grad_(self, x: torch.Tensor, y: torch.Tensor, buckets: Sequence[int]) -> None:
        """Write into ``self.flat.grad`` the gradient of the sum over the models of ``buckets``
        of each model's mean cross-entropy on ``(x, y)``: x (B, d), y (B, M_b) the labels of
        those models in bucket order. Other buckets' gradients are left as they are.

        Backpropagation written out, each product straight into the gradient's memory: it
        gives what ``loss.backward()`` gives (the tests check), 1.2-1.3x faster on a CPU
        without autograd's per-operation bookkeeping, and it is the step a CUDA graph captures.
        """
        B, row = x.shape[0], 0
        for b in buckets:
            layers = self._layers(b)
            acts = self._activations(b, x)
            G = acts[-1].shape[0]
            delta = torch.softmax(acts[-1], dim=1)  # (G, C, B): d(mean CE)/d(logits) = (softmax - onehot) / B
            delta.scatter_add_(1, y[:, row : row + G].T.unsqueeze(1), delta.new_full((1, 1, 1), -1.0).expand(G, 1, B))
            delta.div_(B)
            row += G
            for l, h in zip(reversed(layers[1:]), reversed(acts[:-1])):
                torch.bmm(delta, h.transpose(1, 2), out=self.weights[l].grad)
                torch.sum(delta, dim=2, keepdim=True, out=self.biases[l].grad)
                # ReLU's backward as autograd computes it (zero where the output is zero)
                delta = torch.ops.aten.threshold_backward(torch.bmm(self.weights[l].transpose(1, 2), delta), h, 0)
            W = self.weights[layers[0]]
            torch.mm(delta.view(-1, B), x, out=W.grad.view(-1, W.shape[2]))
            torch.sum(delta, dim=2, keepdim=True, out=self.biases[layers[0]].grad)

    def set_mask(self, model: int, layer: int, mask: torch.Tensor) -> None:
        """Hold the weights of ``model``'s ``layer`` at zero where ``mask`` (fan_out, fan_in) is 0.

        The mask is applied now and after every optimizer step (see :func:`train`); a
        mask of ones removes the constraint. For pruning (chapter 4).
        """
        b, g = self.position[model]
        index = b * (self.depth + 1) + layer
        fan_in, fan_out = self._layer_sizes(self.widths[model])[layer : layer + 2]
        if tuple(mask.shape) != (fan_out, fan_in):
            raise ParameterError("mask.shape", tuple(mask.shape), f"(fan_out, fan_in) = {(fan_out, fan_in)}")
        if self.mask is None:
            self.mask = torch.ones_like(self.flat.detach())
        W, offset = self.weights[index], self.weight_offsets[index]
        full = self.mask[offset : offset + W.numel()].view(W.shape)  # (G, fan_out, fan_in)
        full[g, :fan_out, :fan_in] = mask.to(full)
        self.apply_masks()

    @torch.no_grad()
    def apply_masks(self) -> None:
        """Zero every masked weight (called after each optimizer step)."""
        if self.mask is not None:
            self.flat.mul_(self.mask)

    def zero_grad_(self) -> None:
        """Zero the flat gradient in place (it must stay the buffer the bucket gradients view)."""
        self.flat.grad.zero_()

    def layers_of(self, model: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(weight (fan_out, fan_in), bias (fan_out,))`` views of one model's layers, unpadded."""
        b, g = self.position[model]
        sizes = self._layer_sizes(self.widths[model])
        out = []
        for l, (fan_in, fan_out) in enumerate(pairwise(sizes)):
            index = b * (self.depth + 1) + l
            out.append((self.weights[index][g, :fan_out, :fan_in], self.biases[index][g, :fan_out, 0]))
        return out

    def to_sequential(self, model: int) -> nn.Sequential:
        """A standalone ``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU`` with ``model``'s current weights."""
        modules: list[nn.Module] = []
        for W, b in self.layers_of(model):
            linear = nn.Linear(W.shape[1], W.shape[0], device=W.device, dtype=W.dtype)
            with torch.no_grad():
                linear.weight.copy_(W)
                linear.bias.copy_(b)
            modules += [linear, nn.ReLU()]
        return nn.Sequential(*modules[:-1])

    def useful_flops_per_example(self) -> int:
        """Multiply-add FLOPs (2 per MAC) of one forward pass per example, summed over models, no padding."""
        sizes = [self._layer_sizes(h) for h in self.widths]
        return sum(2 * i * o for s in sizes for i, o in pairwise(s))
