"""The wide-network chapter's notebook configs: the shared regression fields, full profiles and validation messages."""

import re

import pytest

from overparam_lib import ParameterError
from overparam_lib.configs import configure
from overparam_lib.configs import wide_networks


def test_the_regression_setup_is_shared_and_full_profiles_grow():
    for name in ("LazyTrainingConfig", "FunctionSpaceConfig"):
        config = configure(getattr(wide_networks, name), {})
        assert (config.input_dim, config.n_train, config.steps, config.lr) == (8, 40, 1000, 4.0)
        full = configure(getattr(wide_networks, name), {"profile": "full"})
        assert full.widths[-1] == 2**15 and full.steps == 5000
    rich = configure(wide_networks.LazyRichConfig, {"profile": "full"})
    assert (rich.input_dim, rich.n_train, rich.width, rich.teacher_width) == (100, 1000, 50, 3)  # the authors' sizes
    assert configure(wide_networks.EmpiricalNtkConfig, {"profile": "full"}).widths[-1] == 2**17


@pytest.mark.parametrize(
    "config_name, params, message",
    [
        ("EmpiricalNtkConfig", {"widths": (64, 32)}, "widths = (64, 32) is not allowed: expected at least two increasing"),
        ("EmpiricalNtkConfig", {"widths": (32, 64, 128)}, "expected widths that include 1024"),
        ("EmpiricalNtkConfig", {"deep_widths": (8,)}, "deep_widths = (8,) is not allowed"),
        ("EmpiricalNtkConfig", {"angle_widths": (100,)}, "angle_widths = (100,) is not allowed: expected a non-empty subset"),
        ("EmpiricalNtkConfig", {"num_seeds": 1}, "num_seeds = 1 is not allowed"),
        ("EmpiricalNtkConfig", {"input_dim": 1}, "input_dim = 1 is not allowed"),
        ("LazyTrainingConfig", {"widths": (64, 129)}, "expected even widths"),
        ("LazyTrainingConfig", {"lr": 0.0}, "lr = 0.0 is not allowed"),
        ("LazyTrainingConfig", {"frequency": -1.0}, "frequency = -1.0 is not allowed"),
        ("LazyTrainingConfig", {"num_seeds": 1}, "num_seeds = 1 is not allowed"),
        ("FunctionSpaceConfig", {"num_pairs": 1}, "num_pairs = 1 is not allowed"),
        ("FunctionSpaceConfig", {"small_width": 1}, "small_width = 1 is not allowed"),
        ("FunctionSpaceConfig", {"n_test": 0}, "n_test = 0 is not allowed"),
        ("LazyRichConfig", {"teacher_width": 20}, "teacher_width = 20 is not allowed: expected at most input_dim = 16"),
        ("LazyRichConfig", {"width": 255}, "width = 255 is not allowed: expected an even number"),
        ("LazyRichConfig", {"alphas": (1.0, 0.1, 10.0)}, "alphas = (1.0, 0.1, 10.0) is not allowed: expected at least three increasing"),
        ("LazyRichConfig", {"alphas": (0.0, 1.0, 2.0)}, "alphas = (0.0, 1.0, 2.0) is not allowed"),
        ("LazyRichConfig", {"device": "tpu"}, "device = 'tpu' is not allowed"),
    ],
)
def test_bad_values_name_the_parameter(config_name, params, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        configure(getattr(wide_networks, config_name), params)
