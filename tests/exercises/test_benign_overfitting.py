"""The benign-overfitting chapter's exercises: run each notebook with the exercise's
parameters and check that what the hidden answer in ``book/benign_overfitting.md`` says is
what happens (on a run in a scratch folder; the committed notebooks are not touched)."""

import pytest

from tests.exercises.test_double_descent import ROOT, glued, run_exercise


@pytest.mark.slow  # 30 s or more on a 2-core AMD EPYC: the slow tier
def test_law_of_robustness_in_twice_the_dimension(tmp_path):
    # Answer: the law's line stays put (within 5% at the largest width, about 0.43); the
    # measured lower bounds fall, by roughly a quarter at the largest width (to about 7.5),
    # and the closest-pair bound falls too; the notebook's claims (every point above the
    # line, slope far below 1) still hold, or the run would fail.
    committed = glued(ROOT / "notebooks" / "law_of_robustness.ipynb")
    values = run_exercise(tmp_path, "law_of_robustness", {"dim": 40})
    assert values["dim"] == 40 and committed["dim"] == 20
    assert values["law_largest"] == pytest.approx(committed["law_largest"], rel=0.05)
    assert values["law_largest"] == pytest.approx(0.43, abs=0.01)
    assert values["lower_largest"] <= 0.9 * committed["lower_largest"]
    assert values["lower_largest"] == pytest.approx(7.5, rel=0.2)
    assert values["pairwise"] < committed["pairwise"]
    assert values["slope"] < 0.5


@pytest.mark.slow  # 30 s or more on a 2-core AMD EPYC: the slow tier
def test_label_noise_does_not_protect_an_interpolator(tmp_path):
    # Answer: with sigma^2 = 1 the variances still cross at the same p, and the simulated
    # advantage at the smallest p, at the dip and at p = D each moves by less than 0.03.
    committed = glued(ROOT / "notebooks" / "parameters_or_privacy.ipynb")
    values = run_exercise(tmp_path, "parameters_or_privacy", {"noise": 1.0})
    assert values["noise"] == 1.0 and committed["noise"] == 0.25
    assert values["crossing_p"] == committed["crossing_p"]
    for key in ("adv_first_mc", "adv_dip_mc", "adv_last_mc"):
        assert values[key] == pytest.approx(committed[key], abs=0.03), key
