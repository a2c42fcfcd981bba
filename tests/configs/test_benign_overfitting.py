"""The benign-overfitting chapter's notebook configs: defaults, grids and validation messages."""

import pytest

from overparam_lib import ParameterError
from overparam_lib.configs import configure
from overparam_lib.configs.benign_overfitting import PrivacyConfig


def test_privacy_widths_run_from_just_above_n_to_all_features():
    config = configure(PrivacyConfig, {})
    assert config.widths[0] == config.n_train + 3 and config.widths[-1] == config.num_features
    assert len(config.widths) == config.num_widths and config.widths == sorted(set(config.widths))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_train": 1}, "n_train = 1 is not allowed"),
        ({"num_features": 43}, "num_features = 43 is not allowed: expected at least n_train + 4 = 44"),
        ({"noise": -0.1}, "noise = -0.1 is not allowed"),
        ({"ridges": (0.0, 0.1)}, "ridges = (0.0, 0.1) is not allowed: expected values > 0"),
        ({"num_trials": 10}, "num_trials = 10 is not allowed"),
        ({"device": "tpu"}, "device = 'tpu' is not allowed"),
    ],
)
def test_privacy_bad_values_name_the_parameter(params, message):
    with pytest.raises(ParameterError) as err:
        configure(PrivacyConfig, params)
    assert str(err.value).startswith(message)
