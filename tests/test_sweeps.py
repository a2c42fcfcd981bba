"""Width sweeps: the interpolation threshold and the double-descent peak."""

import numpy as np

from overparam_lib.sweeps import double_descent_peak, interpolation_threshold


def test_interpolation_threshold_is_the_first_width_from_which_all_fit():
    widths = np.array([2, 4, 8, 16, 32])
    errors = np.array([[0.5, 0.0, 0.1, 0.0, 0.0], [0.5, 0.4, 0.3, 0.2, 0.1]])
    assert interpolation_threshold(widths, errors)[0] == 16
    assert np.isnan(interpolation_threshold(widths, errors)[1])


def test_double_descent_peak_finds_the_classical_minimum_below_the_threshold_and_the_peak_above_it():
    widths = np.array([2, 4, 8, 16, 32, 64])
    error = np.array([0.6, 0.3, 0.35, 0.5, 0.4, 0.2])  # minimum at 4, peak at 16, end 0.2
    peak = double_descent_peak(widths, error, threshold=16.0)
    assert (peak["classical_width"], peak["classical_error"], peak["classical_index"]) == (4.0, 0.3, 1)
    assert (peak["peak_width"], peak["peak_error"], peak["peak_index"]) == (16.0, 0.5, 3)
    assert peak["end_error"] == 0.2 and peak["prominence"] == 0.5 - 0.3
    # no threshold (nothing interpolates): the minimum is searched over every width
    assert double_descent_peak(widths, error, threshold=np.nan)["classical_width"] == 64.0
