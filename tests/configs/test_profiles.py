"""Profiles: a notebook's parameters become its config; ``full`` changes only what was left at its default."""

import time

import pytest

from overparam_lib import ParameterError
from overparam_lib.configs import configure
from overparam_lib.configs.profiles import seconds_since_configure
from overparam_lib.configs.double_descent import RidgelessConfig


def test_defaults_are_the_ci_profile():
    config = configure(RidgelessConfig, {})
    assert config == RidgelessConfig()
    assert config.widths.min() >= 1 and not (abs(config.widths - config.n_train) <= 1).any()


def test_full_profile_replaces_defaults_but_keeps_explicit_changes():
    full = configure(RidgelessConfig, {"profile": "full"})
    assert full.n_train == RidgelessConfig.FULL["n_train"] and full.num_seeds == RidgelessConfig.FULL["num_seeds"]
    mixed = configure(RidgelessConfig, {"profile": "full", "n_train": 50, "unrelated": 1})
    assert mixed.n_train == 50 and mixed.num_seeds == RidgelessConfig.FULL["num_seeds"]


def test_an_unknown_profile_is_refused_naming_the_choices():
    with pytest.raises(ParameterError, match=r"^profile = 'fast' is not allowed: expected one of 'ci', 'full'$"):
        configure(RidgelessConfig, {"profile": "fast"})


def test_the_clock_restarts_at_every_configure():
    # the reproducibility stamp's wall time runs from a notebook's validation cell, also
    # when a kernel has run the notebook before
    time.sleep(0.2)
    configure(RidgelessConfig, {})
    assert 0 <= seconds_since_configure() < 0.1
