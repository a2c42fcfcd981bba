"""Train a whole sweep of classifiers at once, and the plain one-model loop it must agree with.

:func:`train` trains every model of an :class:`~overparam_lib.models.MLPBatch` on the
same sequence of minibatches (each model with its own labels, init and weight decay)
with one forward and one backward pass per step for all of them. :func:`train_sequential`
trains one ``nn.Sequential`` with ``torch.optim`` the plain way; it is the reference the
tests compare against and the baseline the benchmark times.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from overparam_lib.errors import ParameterError, check_int, check_real
from overparam_lib.models import MLPBatch
from overparam_lib.progress import progress_bar

OPTIMIZERS = ("sgd", "adam")
_EVAL_CHUNK = 1024  # examples per evaluation pass: bounds memory at (M, chunk, width)


def batch_indices(n: int, batch_size: int | None, steps: int, seed: int = 0) -> Iterator[torch.Tensor | None]:
    """The index of each step's minibatch: epochs of a seeded random permutation of ``range(n)``.

    ``batch_size=None`` (or >= n) is full-batch gradient descent and yields ``None`` (all
    examples, unshuffled). The last batch of an epoch may be smaller, as with
    ``DataLoader(shuffle=True, drop_last=False)``.
    """
    if batch_size is None or batch_size >= n:
        for _ in range(steps):
            yield None
        return
    g = torch.Generator().manual_seed(seed)
    done = 0
    while done < steps:
        for idx in torch.randperm(n, generator=g).split(batch_size):
            if done == steps:
                return
            yield idx
            done += 1


def _record_steps(steps: int, record_steps: Sequence[int] | None) -> list[int]:
    record = sorted({0, steps, *(record_steps or [])})
    if record[0] < 0 or record[-1] > steps:
        raise ParameterError("record_steps", list(record_steps or []), f"steps in [0, steps = {steps}]")
    return record


def _make_optimizer(params, optimizer: str, lr: float, momentum: float, weight_decay: float, fused: bool = False,
                    capturable: bool = False):
    """``torch.optim.SGD`` or ``Adam``; ``fused`` runs the update as one kernel (CPU and CUDA);
    ``capturable`` (CUDA) keeps Adam's step count on the device, so a CUDA graph can hold the update."""
    if optimizer == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay, fused=fused or None)
    return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=fused or None, capturable=capturable)


def _check_training_args(steps, batch_size, optimizer, lr, momentum) -> None:
    check_int("steps", steps)
    if batch_size is not None:
        check_int("batch_size", batch_size)
    if optimizer not in OPTIMIZERS:
        raise ParameterError("optimizer", optimizer, f"one of {', '.join(map(repr, OPTIMIZERS))}")
    check_real("lr", lr, strict=True)
    if not 0 <= momentum < 1:
        raise ParameterError("momentum", momentum, "a number in [0, 1)")


@torch.no_grad()
def _evaluate(forward, X: torch.Tensor, y: torch.Tensor, corrupted: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Mean cross-entropy and error rate of each model: ``forward(x) -> (M, B, C)``, y (M, n) or (n,).

    With ``corrupted`` (M, n), a mask of the examples whose label was corrupted, the error is
    also split into ``error_clean`` and ``error_corrupted``, each over its own examples
    (``nan`` for a model with none).
    """
    loss = error = wrong_corrupted = wrong_clean = 0.0
    for start in range(0, X.shape[0], _EVAL_CHUNK):
        logits = forward(X[start : start + _EVAL_CHUNK])  # (M, B, C)
        target = y[..., start : start + _EVAL_CHUNK].expand(logits.shape[:2])  # (M, B)
        loss = loss + F.cross_entropy(logits.transpose(1, 2), target, reduction="none").sum(1)
        wrong = logits.argmax(-1) != target  # (M, B)
        error = error + wrong.sum(1)
        if corrupted is not None:
            mask = corrupted[:, start : start + _EVAL_CHUNK]  # (M, B)
            wrong_corrupted = wrong_corrupted + (wrong & mask).sum(1)
            wrong_clean = wrong_clean + (wrong & ~mask).sum(1)
    metrics = {"loss": loss / X.shape[0], "error": error / X.shape[0]}  # (M,) each
    if corrupted is not None:
        num_corrupted = corrupted.sum(1)  # (M,); 0/0 gives nan
        metrics["error_corrupted"] = wrong_corrupted / num_corrupted
        metrics["error_clean"] = wrong_clean / (X.shape[0] - num_corrupted)
    return metrics


def train(
    model: MLPBatch,
    X: torch.Tensor,
    y: torch.Tensor,
    X_test: torch.Tensor,
    y_test: torch.Tensor,
    steps: int,
    batch_size: int | None = None,
    optimizer: str = "sgd",
    lr: float = 0.1,
    momentum: float = 0.0,
    weight_decay: float | Sequence[float] = 0.0,
    record_steps: Sequence[int] | None = None,
    stop_at_zero_error: bool = False,
    batch_seed: int = 0,
    progress: bool | None = None,
    y_clean: torch.Tensor | None = None,
    snapshot_steps: Sequence[int] = (),
) -> dict[str, np.ndarray]:
    """Train every model of ``model`` with cross-entropy, all in one batched step.

    Args:
        model: the M models.
        X, X_test: (n, d) and (n_test, d) inputs, on the model's device.
        y: (n,) labels shared by all models, or (M, n): model m trains on ``y[m]``
            (e.g. its own label noise).
        y_test: (n_test,) clean test labels.
        steps: optimizer steps.
        batch_size: minibatch size; ``None`` for full-batch gradient descent.
        optimizer: ``"sgd"`` (with ``momentum``) or ``"adam"``, as in ``torch.optim``.
        lr: learning rate.
        weight_decay: L2 coefficient added to the gradient as ``torch.optim`` does;
            one value, or one per model (e.g. a weight-decay sweep).
        record_steps: steps after which train and test metrics are recorded (0 and
            ``steps`` always are).
        stop_at_zero_error: freeze a model once a recorded train error is 0.
        batch_seed: seed of the minibatch order, the same for every model.
        progress: show a progress bar (default: unless ``OVERPARAM_PROGRESS=0``).
        y_clean: (n,) the training labels before label noise: the training error is then
            also recorded separately on the examples whose label in ``y`` is corrupted
            (differs from ``y_clean``) and on the others.
        snapshot_steps: steps after which a copy of every parameter (``model.flat``) is
            kept, e.g. the rewind points of lottery tickets (0 is the initialization).

    Returns:
        Dict of NumPy arrays: ``step`` (R,); ``train_loss``, ``train_error``,
        ``test_loss``, ``test_error`` (R, M), and with ``y_clean`` also
        ``train_error_clean`` and ``train_error_corrupted`` (R, M; ``nan`` for a model
        without corrupted labels); ``stop_step`` (M,), the step a model was frozen at
        (``steps`` if never); with ``snapshot_steps``, ``snapshots`` (S, P), the parameter
        vector after each of those steps, in increasing order.
    """
    _check_training_args(steps, batch_size, optimizer, lr, momentum)
    snapshot_at = sorted(set(snapshot_steps))
    if snapshot_at and (snapshot_at[0] < 0 or snapshot_at[-1] > steps):
        raise ParameterError("snapshot_steps", list(snapshot_steps), f"steps in [0, steps = {steps}]")
    flat = model.flat
    snapshots = {0: flat.detach().clone()} if 0 in snapshot_at else {}
    M, n = model.num_models, X.shape[0]
    decay = torch.as_tensor(weight_decay, dtype=torch.float64).expand(M)
    if not (decay >= 0).all():
        raise ParameterError("weight_decay", list(decay.tolist()), "values >= 0")
    y = y.expand(M, n) if y.ndim == 1 else y
    if tuple(y.shape) != (M, n):
        raise ParameterError("y.shape", tuple(y.shape), f"({n},) or (num_models, n) = ({M}, {n})")
    record = _record_steps(steps, record_steps)
    order = torch.tensor(model.order, device=X.device)
    unsort = torch.argsort(order)
    y_sorted = y[order]  # (M, n) labels in bucket order
    corrupted = None if y_clean is None else y_sorted != y_clean  # (M, n) which labels the noise changed
    shared_decay = float(decay[0]) if (decay == decay[0]).all() else None
    # one parameter tensor for the whole sweep: the fused update is a single pass over it
    opt = _make_optimizer([flat], optimizer, lr, momentum, shared_decay or 0.0,
                          fused=flat.device.type in ("cpu", "cuda"), capturable=flat.device.type == "cuda")
    decay_flat = None if shared_decay is not None else decay[order].to(flat)[model.owner]  # per entry of flat

    bucket_rows = np.cumsum([0] + [len(b) for b in model.buckets])  # bucket b holds sorted rows [r_b, r_b+1)
    active = list(range(len(model.buckets)))  # buckets with a model still training
    frozen = torch.zeros(M, dtype=torch.bool, device=flat.device)  # in bucket order
    frozen_flat = snapshot = None  # which entries of flat are frozen, and their values
    stop_step = np.full(M, steps)
    history = {}  # metric -> one (M,) tensor per record, left on the device until the end

    def record_metrics(step: int) -> bool:
        """Record every metric; with ``stop_at_zero_error``, freeze the models that reached zero
        training error. True if any froze (then what the step reads has changed)."""
        nonlocal frozen_flat, snapshot
        for key, (data, labels, mask) in {"train": (X, y_sorted, corrupted), "test": (X_test, y_test, None)}.items():
            for metric, values in _evaluate(model, data, labels, mask).items():  # (M,) each, bucket order
                history.setdefault(f"{key}_{metric}", []).append(values[unsort])
        if stop_at_zero_error:  # the host waits for this evaluation: at record steps only
            newly = (history["train_error"][-1][order] == 0) & ~frozen
            if newly.any():
                frozen[newly] = True
                stop_step[np.array(model.order)[newly.cpu().numpy()]] = step
                frozen_flat = frozen[model.owner]
                snapshot = flat.detach().clone()  # earlier-frozen entries already hold their frozen values
                active[:] = [b for b in active if not frozen[bucket_rows[b] : bucket_rows[b + 1]].all()]
                return True
        return False

    def labels_by_example() -> torch.Tensor:
        """(n, M_active): the labels of the models still training, one row per example (a minibatch gathers rows)."""
        rows = torch.cat([torch.arange(bucket_rows[b], bucket_rows[b + 1]) for b in active]).to(X.device)
        return y_sorted[rows].T.contiguous()

    def step(idx: torch.Tensor | None) -> None:
        xb, yb = (X, y_active) if idx is None else (X[idx], y_active[idx])
        model.cross_entropy_grad_(xb, yb, active)  # sum over models of each model's mean loss
        if decay_flat is not None:
            flat.grad.addcmul_(flat.detach(), decay_flat)  # per-model L2, as torch.optim's weight_decay adds it
        opt.step()
        with torch.no_grad():
            model.apply_masks()
            if frozen_flat is not None:
                flat.copy_(torch.where(frozen_flat, snapshot, flat))

    record_metrics(0)
    y_active = labels_by_example()
    model.zero_grad_()
    run_step = _StepRunner(step, flat.device)
    schedule = list(batch_indices(n, batch_size, steps, batch_seed))
    if schedule and schedule[0] is not None:  # every minibatch's indices moved to the device at once
        schedule = torch.cat(schedule).to(X.device).split([len(idx) for idx in schedule])
    bar = progress_bar(steps, f"training {M} models", progress)
    record_set = set(record)
    for step_number, idx in enumerate(schedule, start=1):
        if not active:
            break
        run_step(idx)
        bar.update()
        if step_number in snapshot_at:
            snapshots[step_number] = flat.detach().clone()
        if step_number in record_set and record_metrics(step_number):  # models froze
            run_step.reset()  # the step reads new tensors (frozen entries, labels): capture it again
            model.zero_grad_()  # buckets that stopped training get no loss gradient (their parameters are restored)
            if active:
                y_active = labels_by_example()
    bar.close()
    result = {k: torch.stack(v).cpu().numpy() for k, v in history.items()}
    missing = len(record) - len(result["train_loss"])  # every model froze early: metrics no longer change
    result = {k: np.concatenate([v, np.repeat(v[-1:], missing, axis=0)]) for k, v in result.items()}
    if snapshot_at:
        if len(snapshots) < len(snapshot_at):  # every model froze early: the parameters no longer change
            snapshots.update({s: flat.detach().clone() for s in snapshot_at if s not in snapshots})
        result["snapshots"] = torch.stack([snapshots[s] for s in snapshot_at]).cpu().numpy()
    return {"step": np.array(record), **result, "stop_step": stop_step}


class _StepRunner:
    """Calls ``step(idx)`` for each minibatch; on CUDA, replays it as a CUDA graph.

    ``step`` reads its minibatch indices from a buffer kept per batch size (an epoch's last
    batch may be smaller), so the same tensors are read at every call. On CUDA, after
    ``warmup`` eager calls with a batch size (on a side stream, as capture requires), the
    step is captured once and then replayed: one launch per step instead of about a hundred
    kernel launches, and no host synchronization between captures (a capture itself
    synchronizes). Elsewhere the step simply runs. ``reset`` drops the graphs when what the
    step reads changes (models froze).

    A capture or replay that raises (a driver, a PyTorch build or an op that cannot be
    captured) ran no step: the runner warns once, naming the cause, and from then on runs
    every step eagerly, so training goes on with the eager path's results.
    """

    def __init__(self, step, device: torch.device, warmup: int = 3):
        self.step, self.warmup, self.device = step, warmup, device
        self.capture = device.type == "cuda"
        self.replays = 0  # graph replays so far (for the tests)
        self.buffers: dict[int | None, torch.Tensor | None] = {}
        self.graphs: dict[int | None, torch.cuda.CUDAGraph] = {}
        self.calls: dict[int | None, int] = {}

    def __call__(self, idx: torch.Tensor | None) -> None:
        size = None if idx is None else len(idx)
        if size not in self.buffers:
            self.buffers[size] = None if idx is None else torch.empty_like(idx)
        buffer = self.buffers[size]
        if buffer is not None:
            buffer.copy_(idx)
        if self.capture and (size in self.graphs or self.calls.get(size, 0) >= self.warmup):
            try:
                with torch.cuda.device(self.device):  # streams and graphs belong to the model's GPU
                    self._replay(size, buffer)
                return
            except Exception as exc:  # noqa: BLE001 (any failure to capture: the eager step still works)
                self._stop_capturing(exc)
        elif self.capture:
            self.calls[size] = self.calls.get(size, 0) + 1
            with torch.cuda.device(self.device), self._side_stream(), warnings.catch_warnings():
                # capturable Adam warns when it steps outside a capture: these steps are meant to
                warnings.filterwarnings("ignore", message=".*capturable=True.*")
                self.step(buffer)
            return
        self.step(buffer)

    def _replay(self, size: int | None, buffer: torch.Tensor | None) -> None:
        if size not in self.graphs:
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):  # records the step without running it
                self.step(buffer)
            self.graphs[size] = graph
        self.graphs[size].replay()
        self.replays += 1

    @contextlib.contextmanager
    def _side_stream(self):
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            yield
        torch.cuda.current_stream().wait_stream(side)

    def _stop_capturing(self, exc: Exception) -> None:
        self.capture = False
        self.graphs.clear()
        warnings.warn(f"CUDA graph capture or replay failed ({type(exc).__name__}: {exc}); "
                      "training goes on with eager CUDA steps", RuntimeWarning, stacklevel=3)

    def reset(self) -> None:
        self.graphs.clear()
        self.calls.clear()


def evaluate(model: MLPBatch, X: torch.Tensor, y: torch.Tensor) -> dict[str, np.ndarray]:
    """Mean cross-entropy ``loss`` and ``error`` rate of each of ``model``'s networks on ``(X, y)``,
    as NumPy arrays (M,) in model order; ``y`` (n,) shared or (M, n) per model."""
    order = torch.tensor(model.order, device=X.device)
    labels = y if y.ndim == 1 else y[order]
    metrics = _evaluate(model, X, labels)
    return {k: v[torch.argsort(order)].cpu().numpy() for k, v in metrics.items()}


def train_sequential(
    net: nn.Sequential,
    X: torch.Tensor,
    y: torch.Tensor,
    X_test: torch.Tensor,
    y_test: torch.Tensor,
    steps: int,
    batch_size: int | None = None,
    optimizer: str = "sgd",
    lr: float = 0.1,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    record_steps: Sequence[int] | None = None,
    stop_at_zero_error: bool = False,
    batch_seed: int = 0,
    y_clean: torch.Tensor | None = None,
) -> dict[str, np.ndarray]:
    """Train one network the plain way (``torch.optim``, one model per loop); same arguments
    and returned history (with M = 1) as :func:`train`."""
    _check_training_args(steps, batch_size, optimizer, lr, momentum)
    record = _record_steps(steps, record_steps)
    opt = _make_optimizer(net.parameters(), optimizer, lr, momentum, weight_decay)
    forward = lambda x: net(x).unsqueeze(0)  # (1, B, C)
    history = {}
    stopped = None
    corrupted = None if y_clean is None else (y != y_clean)[None]  # (1, n)

    def record_metrics() -> None:
        for key, (data, labels, mask) in {"train": (X, y, corrupted), "test": (X_test, y_test, None)}.items():
            for metric, values in _evaluate(forward, data, labels, mask).items():
                history.setdefault(f"{key}_{metric}", []).append(values.cpu().numpy())

    record_metrics()
    for step, idx in enumerate(batch_indices(X.shape[0], batch_size, steps, batch_seed), start=1):
        if stopped is None:
            xb, yb = (X, y) if idx is None else (X[idx], y[idx])
            loss = F.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if step in record:
            record_metrics()
            if stop_at_zero_error and stopped is None and history["train_error"][-1][0] == 0:
                stopped = step
    return {"step": np.array(record), **{k: np.stack(v) for k, v in history.items()},
            "stop_step": np.array([stopped if stopped is not None else steps])}
