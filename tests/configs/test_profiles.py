"""Profiles: a notebook's parameters become its config; ``full`` changes only what was left at its default."""

from overparam_lib.configs import configure
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
