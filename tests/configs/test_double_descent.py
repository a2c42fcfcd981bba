"""The double descent chapter's notebook configs: profiles and validation messages."""

import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.configs import configure
from overparam_lib.configs.double_descent import (
    DeepDoubleDescentConfig,
    OptimalRegularizationConfig,
    RandomFeaturesConfig,
    RidgelessConfig,
)


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


@pytest.mark.parametrize(
    "config_cls, params, message",
    [
        (DeepDoubleDescentConfig, {"n_train": 5000}, "n_train = 5000 is not allowed: expected at most 4000"),
        (DeepDoubleDescentConfig, {"widths": (2, 8, 4)}, "widths = (2, 8, 4) is not allowed: expected at least 3 increasing positive integers"),
        (DeepDoubleDescentConfig, {"widths": (2, 0, 4)}, "widths = (2, 0, 4) is not allowed: expected at least 3 increasing positive integers"),
        (DeepDoubleDescentConfig, {"widths": (2, 4)}, "widths = (2, 4) is not allowed: expected at least 3 increasing positive integers"),
        (DeepDoubleDescentConfig, {"noise": (0.1, 1.5)}, "noise = (0.1, 1.5) is not allowed: expected a non-empty list of numbers in [0, 1]"),
        (DeepDoubleDescentConfig, {"optimizer": "rmsprop"}, "optimizer = 'rmsprop' is not allowed: expected one of 'adam', 'sgd'"),
        (DeepDoubleDescentConfig, {"lr": 0}, "lr = 0 is not allowed: expected a number > 0"),
        (RandomFeaturesConfig, {"max_ratio": 0.05}, "max_ratio = 0.05 is not allowed: expected a value > min_ratio = 0.1"),
        (RandomFeaturesConfig, {"mnist_n_train": 4001}, "mnist_n_train = 4001 is not allowed: expected at most 4000"),
        (RandomFeaturesConfig, {"noise": ()}, "noise = () is not allowed: expected a non-empty list of numbers >= 0"),
        (OptimalRegularizationConfig, {"ridges": (0.1, 1.0)}, "ridges = (0.1, 1.0) is not allowed: expected a list that includes 0"),
        (OptimalRegularizationConfig, {"n_train": 3500}, "n_train = 3500 is not allowed: expected at most 3000"),
    ],
)
def test_mlp_configs_name_the_bad_parameter(config_cls, params, message):
    with pytest.raises(ParameterError) as err:
        configure(config_cls, params)
    assert message in str(err.value)


def test_sweep_grids():
    config = DeepDoubleDescentConfig(num_seeds=2)
    W = len(config.widths)
    assert list(config.widths) == sorted(set(config.widths)) and config.widths[0] == 2 and config.widths[-1] == 168
    assert len(config.model_widths) == len(config.noise) * 2 * W == len(config.model_seeds)
    assert config.model_seeds[:W] == [0] * W and config.model_seeds[W : 2 * W] == [1] * W
    assert config.record_steps[0] == 1 and config.record_steps[-1] == config.steps
    rf = RandomFeaturesConfig()
    assert rf.n_train not in rf.widths(rf.n_train) and rf.mnist_width in rf.sample_sizes
    assert OptimalRegularizationConfig().widths[0] == 100
