"""Parameters of the lottery-ticket chapter's notebooks: one config per notebook, sharing the training setup.

Every notebook trains the same MNIST-1D MLP (``40 -> width -> width -> 10``, Adam, minibatches
of 100); :class:`TicketTraining` holds those fields and their checks, and each notebook's
config adds its own. Defaults are the ``ci`` profile, ``FULL`` the values ``full`` changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from overparam_lib.data import MNIST1D_TRAIN
from overparam_lib.device import resolve_device
from overparam_lib.errors import ParameterError, check_int, check_real

# the MNIST-1D authors' lottery notebook trains 40-500-500-10 for 1501 steps
_FULL_TRAINING: dict[str, Any] = {"width": 500, "num_seeds": 5, "steps": 1500}


@dataclass(frozen=True)
class TicketTraining:
    """The training setup every notebook of the chapter shares."""

    profile: str = "ci"  # "ci": <= 45 s on 2 CPU cores; "full": publication sizes, for a GPU
    width: int = 100  # hidden units in each of the two hidden layers
    num_seeds: int = 3  # initializations (seeds seed, seed + 1, ...), trained together
    n_train: int = 4000  # MNIST-1D training examples (test: the authors' 1000)
    steps: int = 1000  # Adam steps per training run (25 epochs of 4000 examples)
    batch_size: int = 100  # minibatch size
    lr: float = 0.01  # Adam's learning rate
    seed: int = 0  # first init seed; also seeds the minibatch order and random masks
    device: str = "auto"  # "auto", "cpu", "cuda", "mps"; env OVERPARAM_DEVICE overrides auto

    FULL: ClassVar[dict[str, Any]] = _FULL_TRAINING

    def validate(self) -> None:
        """Raise :class:`ParameterError` for the first value that is not allowed."""
        check_int("width", self.width, minimum=2)
        check_int("num_seeds", self.num_seeds)
        check_int("n_train", self.n_train, minimum=10)
        if self.n_train > MNIST1D_TRAIN:
            raise ParameterError("n_train", self.n_train, f"at most {MNIST1D_TRAIN} (MNIST-1D's training split)")
        check_int("steps", self.steps)
        check_int("batch_size", self.batch_size)
        check_real("lr", self.lr, strict=True)
        check_int("seed", self.seed, minimum=0)
        resolve_device(self.device)

    @property
    def seeds(self) -> list[int]:
        return [self.seed + s for s in range(self.num_seeds)]

    @property
    def train_kwargs(self) -> dict[str, Any]:
        """What :func:`overparam_lib.train.train` takes from this config."""
        return {"steps": self.steps, "batch_size": self.batch_size, "optimizer": "adam", "lr": self.lr,
                "batch_seed": self.seed}

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_train // self.batch_size)

    @property
    def num_parameters(self) -> int:
        """Weights and biases of the dense MLP ``40 -> width -> width -> 10``."""
        h = self.width
        return (40 + 1) * h + (h + 1) * h + (h + 1) * 10


def _check_rewind(name: str, step: int, steps: int) -> None:
    if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < steps:
        raise ParameterError(name, step, f"an integer step in [0, steps = {steps})")


def _check_rounds(rounds: int, rate: float) -> None:
    check_int("rounds", rounds)
    if not 0 < check_real("rate", rate) < 1:
        raise ParameterError("rate", rate, "a fraction in (0, 1)")


@dataclass(frozen=True)
class ImpConfig(TicketTraining):
    """Iterative magnitude pruning with rewinding, and its two controls."""

    rounds: int = 15  # pruning rounds after the dense one (0.8^15 = 3.5% of hidden weights left)
    rate: float = 0.2  # fraction of the remaining weights each hidden layer loses per round (output: half)
    late_rewind_step: int = 50  # the early iterate late-rewound tickets reset to (5% of training)
    record_every: int = 100  # steps between test evaluations during training

    FULL: ClassVar[dict[str, Any]] = {**_FULL_TRAINING, "rounds": 20}

    def validate(self) -> None:
        super().validate()
        _check_rounds(self.rounds, self.rate)
        _check_rewind("late_rewind_step", self.late_rewind_step, self.steps)
        check_int("record_every", self.record_every)


@dataclass(frozen=True)
class ConnectivityConfig(TicketTraining):
    """Linear mode connectivity of two copies trained from the same rewind point."""

    rewind_steps: tuple[int, ...] = field(default=(0, 5, 10, 20, 40, 60, 80, 120, 160, 320))  # where the two copies split
    sparse_density: float = 0.1  # fraction of weights the sparse network keeps (one-shot magnitude, layer-wise)
    num_alphas: int = 11  # points on the line between the two copies, ends included
    stable_barrier: float = 0.02  # a barrier below this (test error, absolute) counts as linearly connected

    FULL: ClassVar[dict[str, Any]] = {**_FULL_TRAINING, "num_alphas": 21,
                                      "rewind_steps": (0, 5, 10, 20, 40, 60, 80, 120, 160, 320, 640)}

    def validate(self) -> None:
        super().validate()
        steps = self.rewind_steps
        if not isinstance(steps, (list, tuple)) or not steps or list(steps) != sorted(set(steps)):
            raise ParameterError("rewind_steps", steps, f"increasing integer steps in [0, steps = {self.steps})")
        for step in steps:
            _check_rewind("rewind_steps", step, self.steps)
        if not 0 < check_real("sparse_density", self.sparse_density) <= 1:
            raise ParameterError("sparse_density", self.sparse_density, "a fraction in (0, 1]")
        check_int("num_alphas", self.num_alphas, minimum=3)
        check_real("stable_barrier", self.stable_barrier, strict=True)


@dataclass(frozen=True)
class CheapTicketConfig(TicketTraining):
    """Pruning at initialization and early-bird tickets against IMP, with their training cost."""

    rounds: int = 15  # IMP rounds of the reference (and the sparsities the other methods are pruned to)
    rate: float = 0.2  # IMP's per-round rate (output layer: half)
    levels: tuple[int, ...] = field(default=(3, 7, 11, 15))  # IMP rounds whose sparsity the one-shot methods match
    early_bird_threshold: float = 0.1  # You et al.'s epsilon: mask distance that counts as settled
    early_bird_window: int = 5  # consecutive epoch-to-epoch distances that must all be below it

    FULL: ClassVar[dict[str, Any]] = {**_FULL_TRAINING, "rounds": 20, "levels": (3, 7, 11, 15, 20)}

    def validate(self) -> None:
        super().validate()
        _check_rounds(self.rounds, self.rate)
        levels = self.levels
        if (not isinstance(levels, (list, tuple)) or not levels or list(levels) != sorted(set(levels))
                or any(isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= self.rounds for k in levels)):
            raise ParameterError("levels", levels, f"increasing IMP rounds in [1, rounds = {self.rounds}]")
        if not 0 < check_real("early_bird_threshold", self.early_bird_threshold) <= 1:
            raise ParameterError("early_bird_threshold", self.early_bird_threshold, "a fraction in (0, 1]")
        check_int("early_bird_window", self.early_bird_window)
