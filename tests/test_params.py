"""Notebook parameters: profiles and validation messages."""

import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.params import RidgelessConfig, configure


def test_defaults_are_the_ci_profile():
    config = configure(RidgelessConfig, {})
    assert config == RidgelessConfig()
    assert config.widths.min() >= 1 and not (abs(config.widths - config.n_train) <= 1).any()


def test_full_profile_replaces_defaults_but_keeps_explicit_changes():
    full = configure(RidgelessConfig, {"profile": "full"})
    assert full.n_train == RidgelessConfig.FULL["n_train"] and full.num_seeds == RidgelessConfig.FULL["num_seeds"]
    mixed = configure(RidgelessConfig, {"profile": "full", "n_train": 50, "unrelated": 1})
    assert mixed.n_train == 50 and mixed.num_seeds == RidgelessConfig.FULL["num_seeds"]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_train": 0}, r"n_train = 0 is not allowed: expected a positive integer"),
        ({"n_train": -5}, r"n_train = -5 is not allowed"),
        ({"gamma_min": -0.5}, r"gamma_min = -0.5 is not allowed: expected a number > 0"),
        ({"gamma_min": 0.001}, r"gamma_min = 0.001 is not allowed: expected a value with p = round\(gamma_min \* n_train\) >= 1"),
        ({"gamma_max": 0.05}, r"gamma_max = 0.05 is not allowed: expected a value > gamma_min"),
        ({"noise": (0.5, -1.0)}, r"noise = \(0.5, -1.0\) is not allowed: expected a non-empty list of variances"),
        ({"noise": ()}, r"noise = \(\) is not allowed"),
        ({"num_seeds": 0}, r"num_seeds = 0 is not allowed"),
        ({"profile": "fast"}, r"profile = 'fast' is not allowed: expected one of 'ci', 'full'"),
        ({"device": "gpu"}, r"device = 'gpu' is not allowed: expected one of auto, cpu, cuda, mps"),
    ],
)
def test_bad_values_name_parameter_value_and_what_is_allowed(params, message):
    with pytest.raises(ParameterError, match=message):
        configure(RidgelessConfig, params)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_where_there_is_none(monkeypatch):
    monkeypatch.delenv("OVERPARAM_DEVICE", raising=False)
    with pytest.raises(ParameterError, match=r"device = 'cuda' is not allowed: .*not available"):
        configure(RidgelessConfig, {"device": "cuda"})
