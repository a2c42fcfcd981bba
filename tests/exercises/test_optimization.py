"""The optimization chapter's exercises: run each notebook with the exercise's parameters and
check that what the hidden answer in ``book/optimization.md`` says is what happens (on a run
in a scratch folder; the committed notebooks are not touched)."""

import math

import pytest

from tests.exercises.test_double_descent import ROOT, glued, run_exercise


@pytest.mark.slow  # 30 s or more on a 2-core AMD EPYC: the slow tier
def test_random_start_failures_are_traps_not_slow_runs(tmp_path):
    # Answer: with four times the steps the same number of runs fails at m/n >= 4, the success
    # rate there does not move, and every failure now ends at a certified spurious local minimum.
    committed = glued(ROOT / "notebooks" / "lifting.ipynb")
    values = run_exercise(tmp_path, "lifting", {"gd_steps": 8000})
    assert values["gd_steps"] == 8000 and committed["gd_steps"] == 2000
    assert values["failed_count"] == committed["failed_count"]
    assert values["spurious_count"] == values["failed_count"] > committed["spurious_count"]
    assert values["gd_random_success_large"] == committed["gd_random_success_large"]
    assert values["spurious_hess_min"] > 0.01  # every certified minimum: Hessian positive definite


def test_a_smaller_step_escapes_later_by_the_power_method_ratio(tmp_path):
    # Answer: the escape slope grows by ln(1 + 0.25 lambda_r) / ln(1 + 0.1 lambda_r), about 2.3
    # (to about 10.7 steps per e-fold); the error at the smallest alpha stays within a factor 2
    # (about 1.4e-4); the alpha = 1 run fits y exactly but lands far from X* (about 2.3).
    committed = glued(ROOT / "notebooks" / "small_initialization.ipynb")
    values = run_exercise(tmp_path, "small_initialization", {"lr": 0.1})
    assert values["lr"] == 0.1 and committed["lr"] == 0.25
    lam = committed["lambda_r"]
    ratio = math.log(1 + 0.25 * lam) / math.log(1 + 0.1 * lam)
    assert ratio == pytest.approx(2.3, abs=0.1)
    assert values["escape_slope"] / committed["escape_slope"] == pytest.approx(ratio, rel=0.1)
    assert values["escape_slope"] == pytest.approx(10.7, rel=0.1)
    assert 0.5 <= values["error_alpha_smallest"] / committed["error_alpha_smallest"] <= 2
    assert values["error_alpha_smallest"] == pytest.approx(1.4e-4, rel=0.3)
    assert values["error_alpha_one"] == pytest.approx(2.3, rel=0.2)  # the notebook's claims: train loss <= 1e-6
