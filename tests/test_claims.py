"""Measured values and claims: their tolerances, their outputs, and how committed and new runs compare."""

import math

import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from overparam_lib.claims import (
    METADATA_KEY,
    Claim,
    Claims,
    Tolerance,
    claims_table,
    compare_records,
    has_record,
    measured,
    records,
)
from overparam_lib.errors import ParameterError


@pytest.fixture(scope="module")
def shell():
    return InteractiveShell.instance()  # display() publishes rich outputs only inside a shell


def outputs_of(function, *args, **kwargs) -> list[dict]:
    """The display outputs ``function`` publishes, as a notebook stores them."""
    with capture_output() as captured:
        function(*args, **kwargs)
    return [{"output_type": "display_data", "data": o.data, "metadata": o.metadata} for o in captured.outputs]


@pytest.mark.parametrize(
    "tolerance, committed, inside, outside",
    [
        (Tolerance(atol=2.0), 50.0, [48.0, 52.0, 50.0], [47.9, 52.1]),
        (Tolerance(rtol=0.1), 4.0, [3.61, 4.39, 4.0], [3.59, 4.41]),
        (Tolerance(factor=2.0), 72, [36, 144, 89], [35.9, 145, 0, -72]),
    ],
)
def test_tolerance_bounds(tolerance, committed, inside, outside):
    assert all(tolerance.allows(committed, v) for v in inside)
    assert not any(tolerance.allows(committed, v) for v in outside)


def test_non_finite_values_must_match_exactly():
    tolerance = Tolerance(atol=100.0)
    assert tolerance.allows(math.nan, math.nan) and tolerance.allows(math.inf, math.inf)
    assert not tolerance.allows(math.nan, 1.0) and not tolerance.allows(1.0, math.nan)
    assert not tolerance.allows(math.inf, -math.inf)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "tolerance = {} is not allowed: expected exactly one of atol, rtol, factor"),
        ({"atol": 1, "rtol": 0.1}, "expected exactly one of atol, rtol, factor"),
        ({"atol": 0}, "atol = 0 is not allowed: expected a number > 0"),
        ({"rtol": -0.1}, "rtol = -0.1 is not allowed: expected a number > 0"),
        ({"factor": 1.0}, "factor = 1.0 is not allowed: expected a number > 1"),
        ({"atol": True}, "atol = True is not allowed: expected a number > 0"),
    ],
)
def test_bad_tolerances_are_refused(kwargs, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Tolerance(**kwargs)


def test_measured_writes_what_glue_writes_plus_the_tolerance(shell):
    from myst_nb import glue

    ours = outputs_of(measured, "peak_error", np.float32(58.25), atol=3)
    theirs = outputs_of(glue, "peak_error", 58.25, display=False)
    assert ours[0]["data"] == theirs[0]["data"] == {"application/papermill.record/text/plain": "58.25"}
    assert ours[0]["metadata"]["scrapbook"] == theirs[0]["metadata"]["scrapbook"]
    assert ours[0]["metadata"][METADATA_KEY] == {"measured": {"name": "peak_error", "value": 58.25, "atol": 3}}
    assert outputs_of(measured, "width", np.int64(72), factor=1.5)[0]["data"] == {
        "application/papermill.record/text/plain": "72"}  # an integer stays one: {glue:text}`width:d` works
    with pytest.raises(ParameterError, match="width = 'wide' is not allowed: expected a number"):
        measured("width", "wide", factor=1.5)


def test_claims_check_shows_every_claim_and_raises_naming_the_failures(shell):
    claims = Claims()
    claims.at_least("peak above the classical minimum (points)", np.float64(7.1), 2)
    claims.at_most("rise without noise (points)", 0.4, 3)
    claims.between("peak width / threshold", 0.81, 0.4, 1.25)
    claims.holds("every noise level interpolates", np.bool_(True))
    with capture_output() as captured:
        claims.check()
    table = captured.outputs[0].data["text/plain"]
    assert table.splitlines()[0].split() == ["claim", "value", "required", "holds"]
    assert "peak width / threshold" in table and "0.4 to 1.25" in table and table.endswith("4 of 4 claims hold")
    recorded = captured.outputs[0].metadata[METADATA_KEY]["claims"]
    assert recorded[0] == {"claim": "peak above the classical minimum (points)", "value": 7.1, "low": 2.0,
                           "high": None, "holds": True}
    assert recorded[3]["value"] is True

    claims.at_least("test-loss peak above the widest model (nats)", 0.1, 0.25)
    claims.holds("a threshold exists", False)
    with capture_output() as captured, pytest.raises(AssertionError) as failure:
        claims.check()
    assert str(failure.value) == ("claims that do not hold: test-loss peak above the widest model (nats): 0.1 "
                                  "(required >= 0.25); a threshold exists: no (required yes)")
    assert captured.outputs[0].data["text/plain"].endswith("4 of 6 claims hold")  # shown before it raises


def test_claim_margins_and_table():
    assert Claim("a", 3.0, low=2.0).margin() == 1.0
    assert Claim("a", 3.0, low=2.0, high=3.5).margin() == 0.5
    assert Claim("a", 4.0, high=3.5).margin() == -0.5 and not Claim("a", 4.0, high=3.5).holds
    assert math.isnan(Claim("a", True).margin())
    assert claims_table([Claim("x", 1.0, low=2.0)]).splitlines()[1].split() == ["x", "1", ">=", "2", "NO"]


def _record(name, value, **tolerance):
    return {"output_type": "display_data", "data": {}, "metadata": {
        "scrapbook": {"name": name}, METADATA_KEY: {"measured": {"name": name, "value": value, **tolerance}}}}


def _claims_output(*claims):
    return {"output_type": "display_data", "data": {"text/plain": "..."},
            "metadata": {METADATA_KEY: {"claims": [dict(c) for c in claims]}}}


def test_compare_records_uses_the_committed_tolerance():
    committed = [_record("peak", 58.2, atol=3), _record("threshold", 89, factor=1.6)]
    assert compare_records(committed, [_record("peak", 60.9, atol=3), _record("threshold", 110, factor=1.6)]) == []
    problems = compare_records(committed, [_record("peak", 61.3, atol=9), _record("threshold", 89, factor=1.6)])
    assert problems == ["measured value 'peak': committed 58.2, now 61.3, outside the tolerance ± 3"]
    assert compare_records(committed, [_record("peak", 58.2, atol=3)]) == [
        "measured values differ: committed ['peak', 'threshold'], now ['peak']"]


def test_compare_records_checks_claims_by_wording_bounds_and_outcome_not_value():
    claim = {"claim": "rise (points)", "value": 7.1, "low": 2.0, "high": None, "holds": True}
    assert compare_records([_claims_output(claim)], [_claims_output({**claim, "value": 4.0})]) == []
    for changed in ({"low": 3.0}, {"claim": "rise"}, {"holds": False}):
        assert compare_records([_claims_output(claim)], [_claims_output({**claim, **changed})]), changed


def test_records_and_has_record_see_only_marked_outputs():
    plain = {"output_type": "stream", "name": "stdout", "text": "58.2\n"}
    glued = {"output_type": "display_data", "data": {"application/papermill.record/text/plain": "1"},
             "metadata": {"scrapbook": {"name": "n"}}}
    outputs = [plain, glued, _record("peak", 58.2, atol=3), _claims_output({"claim": "c", "value": True,
                                                                           "low": None, "high": None, "holds": True})]
    assert [has_record(o) for o in outputs] == [False, False, True, True]
    values, claims = records(outputs)
    assert list(values) == ["peak"] and [c["claim"] for c in claims] == ["c"]


def test_mean_interval_is_scipys_one_sample_t_interval():
    from scipy.stats import ttest_1samp

    from overparam_lib.claims import mean_interval, seed_interval

    samples = np.array([1.0, 2.0, 4.0, 3.5, 2.2])
    reference = ttest_1samp(samples, 0).confidence_interval(0.9)
    np.testing.assert_allclose(mean_interval(samples, 0.9), (samples.mean(), reference.low, reference.high), rtol=1e-12)
    mean, low, high = seed_interval(np.stack([samples, 2 * samples], axis=1), 0.9)  # (S, 2): one interval per column
    np.testing.assert_allclose(high, [reference.high, 2 * reference.high], rtol=1e-12)
    assert mean_interval([0.0, 0.0, 0.0]) == (0.0, 0.0, 0.0)  # no spread: a zero-width interval
    with pytest.raises(ParameterError, match="samples"):
        mean_interval([1.0])


def test_loglog_slope_pools_the_replicates_into_one_fit():
    from overparam_lib.claims import loglog_slope

    x = np.array([1.0, 2.0, 4.0, 8.0])
    assert loglog_slope(x, 3 * x**-0.5) == pytest.approx(-0.5, abs=1e-12)  # an exact power law
    values = np.stack([x**-0.5, 2 * x**-0.7], axis=1)  # (K, S)
    expected = np.polyfit(np.log(np.concatenate([x, x])), np.log(np.concatenate([values[:, 0], values[:, 1]])), 1)[0]
    assert loglog_slope(x, values) == pytest.approx(expected, abs=1e-12)


def test_records_read_a_non_finite_claim_value_written_as_text_back_as_a_number():
    claim = {"claim": "ratio", "value": "nan", "low": 1.0, "high": None, "holds": False}
    _, claims = records([{"metadata": {METADATA_KEY: {"claims": [claim, {**claim, "value": "-inf"}]}}}])
    assert math.isnan(claims[0]["value"]) and claims[1]["value"] == -math.inf
