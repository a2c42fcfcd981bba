"""The lottery-ticket chapter's notebook configs: shared training fields, defaults and validation messages."""

import pytest

from overparam_lib import ParameterError
from overparam_lib.configs import configure
from overparam_lib.configs import lottery_tickets

CONFIGS = ("ImpConfig", "ConnectivityConfig", "CheapTicketConfig")


def test_the_training_setup_is_shared_and_feeds_train():
    for name in CONFIGS:
        config = configure(getattr(lottery_tickets, name), {"seed": 4, "num_seeds": 2})
        assert config.seeds == [4, 5]
        assert config.train_kwargs == {"steps": 1000, "batch_size": 100, "optimizer": "adam", "lr": 0.01, "batch_seed": 4}
        assert config.steps_per_epoch == 40
        full = configure(getattr(lottery_tickets, name), {"profile": "full"})
        assert (full.width, full.steps) == (500, 1500)  # the MNIST-1D authors' lottery MLP


@pytest.mark.parametrize(
    "config_name, params, message",
    [
        ("ImpConfig", {"width": 1}, "width = 1 is not allowed"),
        ("ImpConfig", {"n_train": 5000}, "n_train = 5000 is not allowed: expected at most 4000"),
        ("ImpConfig", {"rate": 1.0}, "rate = 1.0 is not allowed: expected a fraction in (0, 1)"),
        ("ImpConfig", {"late_rewind_step": 1000}, "late_rewind_step = 1000 is not allowed: expected an integer step in [0, steps = 1000)"),
        ("ImpConfig", {"rounds": 0}, "rounds = 0 is not allowed"),
        ("ImpConfig", {"lr": 0.0}, "lr = 0.0 is not allowed"),
        ("ConnectivityConfig", {"rewind_steps": (10, 5)}, "rewind_steps = (10, 5) is not allowed: expected increasing integer steps"),
        ("ConnectivityConfig", {"rewind_steps": (0, 2000)}, "rewind_steps = 2000 is not allowed"),
        ("ConnectivityConfig", {"sparse_density": 0.0}, "sparse_density = 0.0 is not allowed: expected a fraction in (0, 1]"),
        ("ConnectivityConfig", {"num_alphas": 2}, "num_alphas = 2 is not allowed"),
        ("CheapTicketConfig", {"levels": (3, 20)}, "levels = (3, 20) is not allowed: expected increasing IMP rounds in [1, rounds = 15]"),
        ("CheapTicketConfig", {"early_bird_threshold": 1.5}, "early_bird_threshold = 1.5 is not allowed: expected a fraction in (0, 1]"),
        ("CheapTicketConfig", {"device": "tpu"}, "device = 'tpu' is not allowed"),
    ],
)
def test_bad_values_name_the_parameter(config_name, params, message):
    with pytest.raises(ParameterError) as err:
        configure(getattr(lottery_tickets, config_name), params)
    assert str(err.value).startswith(message), str(err.value)
