"""Parameters of the benign-overfitting chapter's notebooks: one config dataclass per notebook.

Each config's defaults are the notebook's ``ci`` profile, ``FULL`` holds the values the
``full`` profile changes, and ``validate`` names the first bad value;
:func:`overparam_lib.configs.configure` builds a config from a notebook's parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from overparam_lib.device import resolve_device
from overparam_lib.errors import ParameterError, check_int, check_real, check_reals


@dataclass(frozen=True)
class PrivacyConfig:
    """Parameters of the parameters-or-privacy notebook: membership inference against min-norm regression."""

    profile: str = "ci"  # "ci": <= 45 s on 2 CPU cores; "full": publication sizes, for a GPU
    n_train: int = 40  # n, training examples
    num_features: int = 300  # D, Gaussian features that generate the labels; the model sees the first p
    noise: float = 0.25  # sigma^2, label-noise variance
    num_widths: int = 20  # log-spaced feature counts p, from n + 3 to D
    ridges: tuple[float, ...] = field(default=(1.0, 5.0))  # lambda > 0 vs min-norm (Monte Carlo); the authors' code uses n*lambda = 100, 500 at n = 100
    num_trials: int = 2000  # draws of training set, beta and noise per p
    seed: int = 0  # seeds the target x0 and every draw
    device: str = "auto"  # "auto", "cpu", "cuda", "mps"; env OVERPARAM_DEVICE overrides auto

    FULL: ClassVar[dict[str, Any]] = {"n_train": 100, "num_features": 1000, "num_widths": 40, "num_trials": 20000}

    def validate(self) -> None:
        """Raise :class:`ParameterError` for the first value that is not allowed."""
        check_int("n_train", self.n_train, minimum=2)
        check_int("num_features", self.num_features)
        if self.num_features < self.n_train + 4:
            raise ParameterError("num_features", self.num_features, f"at least n_train + 4 = {self.n_train + 4}")
        check_real("noise", self.noise)
        check_int("num_widths", self.num_widths, minimum=2)
        check_reals("ridges", self.ridges)
        if any(r == 0 for r in self.ridges):
            raise ParameterError("ridges", self.ridges, "values > 0 (min-norm, lambda = 0, is always run)")
        check_int("num_trials", self.num_trials, minimum=100)
        check_int("seed", self.seed, minimum=0)
        resolve_device(self.device)

    @property
    def widths(self) -> list[int]:
        """Distinct feature counts p, log-spaced from n + 3 (where sigma_0^2 is finite and moderate) to D."""
        p = np.geomspace(self.n_train + 3, self.num_features, self.num_widths)
        return sorted({int(w) for w in np.round(p)})
