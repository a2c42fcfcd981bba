"""``overparam robustness``: seeds, code paths, runs of a notebook at many seeds, and the report."""

import nbformat
import pytest

from overparam_lib.book.robustness import (SeedRun, code_path_env, load_record, parse_seeds, record, refresh,
                                           remake_command, render, report, report_stem, run_seeds, stale,
                                           write_report)
from overparam_lib.errors import ParameterError


# Two claims about a number drawn from the seed: one always holds, one holds for seeds 0 and 2 only.
SEEDED = [
    'seed = 0  # base seed\nprofile = "ci"',
    "import numpy as np\nfrom overparam_lib.claims import Claims, measured\n"
    "value = float(np.random.default_rng(seed).normal(10, 1))\n"
    "measured('value', value, atol=4)\n"
    "claims = Claims()\nclaims.at_least('value is positive', value, 0)\n"
    "claims.holds('seed is even', seed % 2 == 0)\nclaims.check()",
]


@pytest.fixture
def seeded(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in SEEDED])
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "seeded.ipynb"
    nbformat.write(nb, path)
    return path


def test_parse_seeds():
    assert parse_seeds("0-9") == list(range(10))
    assert parse_seeds("0,3,7") == [0, 3, 7] and parse_seeds("0-2,10") == [0, 1, 2, 10]
    for bad in ("", "a-b", "-1", "3,x"):
        with pytest.raises(ParameterError, match="--seeds"):
            parse_seeds(bad)


def test_code_paths_set_both_aten_and_mkl():
    assert code_path_env("default") == {}
    assert code_path_env("avx2", threads=1) == {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2",
                                                "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with pytest.raises(ParameterError, match="code_path = 'sse' is not allowed: expected one of default, avx2"):
        code_path_env("sse")


def test_runs_at_each_seed_record_claims_and_values_and_the_report_counts_them(seeded):
    runs = run_seeds(seeded, [0, 1, 2], log=lambda line: None)
    assert [r.seed for r in runs] == [0, 1, 2] and [r.passed for r in runs] == [True, False, True]
    assert runs[1].error.startswith("AssertionError: claims that do not hold: seed is even")
    assert all(set(r.values) == {"value"} and len(r.claims) == 2 for r in runs)  # a failed run still records
    text = report(seeded, runs, "a setting")
    assert "**2 of 3 runs pass every claim**" in text
    assert "| seed is even | yes | 2/3 | | | |" in text
    values = [r.values["value"]["value"] for r in runs]
    row = next(line for line in text.splitlines() if line.startswith("| value is positive"))
    assert row.split(" | ")[2:4] == ["3/3", f"{sum(values) / 3:.3g}"]  # holds, mean
    assert "| value | " in text and "| ± 4 |" in text


def test_report_flags_a_tolerance_narrower_than_three_seed_sds(seeded):
    runs = [SeedRun(s, 1.0, None, {"value": {"name": "value", "value": v, "atol": 0.5}}, [])
            for s, v in enumerate([9.0, 10.0, 11.0])]
    assert "Tolerance narrower than 3 seed-to-seed SD: value." in report(seeded, runs, "a setting")


def test_report_escapes_pipes_in_claim_names(seeded):
    claim = {"claim": "largest |z| / 4", "value": 0.5, "low": None, "high": 1.0, "holds": True}
    runs = [SeedRun(s, 1.0, None, {}, [claim]) for s in range(2)]
    row = next(line for line in report(seeded, runs, "a setting").splitlines() if "largest" in line)
    assert row.startswith(r"| largest \|z\| / 4 | ≤ 1 | 2/2 |")
    assert row.replace(r"\|", "").count("|") == 7  # six cells


def test_side_by_side_kernels_give_the_same_runs_in_seed_order(seeded):
    one = run_seeds(seeded, [0, 1, 2], log=lambda line: None)
    two = run_seeds(seeded, [0, 1, 2], log=lambda line: None, jobs=2)
    assert [(r.seed, r.error, r.values, r.claims) for r in two] == [(r.seed, r.error, r.values, r.claims) for r in one]
    with pytest.raises(ParameterError, match="jobs = 0 is not allowed"):
        run_seeds(seeded, [0], jobs=0)


def committed_copy(seeded, tmp_path, value=10.5, atol=4, bound=0):
    """``seeded`` as if committed with ``value`` measured (tolerance ``atol``) and its first claim at ``bound``."""
    nb = nbformat.read(seeded, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "''"}, metadata={"overparam": {
        "measured": {"name": "value", "value": value, "atol": atol},
        "claims": [{"claim": "value is positive", "value": value, "low": bound, "high": None, "holds": True}]}})]
    path = tmp_path / "committed" / seeded.name
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    return path


def test_a_report_is_its_record_rendered_and_goes_stale_when_a_value_or_claim_moves(seeded, tmp_path):
    committed = committed_copy(seeded, tmp_path)
    runs = run_seeds(seeded, [0, 1], log=lambda line: None)
    made = record(committed, runs, "a setting", "overparam robustness seeded --seeds 0-1 --report book/robustness")
    markdown = write_report(tmp_path / "reports", "seeded", made)
    assert markdown.read_text() == render(load_record(tmp_path / "reports" / "seeded.json")) == report(committed, runs, "a setting")
    assert "| value | 10.5 | ± 4 |" in markdown.read_text()
    assert stale(made, committed) == []
    assert stale(made, committed_copy(seeded, tmp_path / "a", value=10.6)) == [
        "measured value value: 10.5 in the report, 10.6 in the notebook",
        "claim 'value is positive': value 10.5, bounds [0, None], holds True in the report, "
        "value 10.6, bounds [0, None], holds True in the notebook"]
    assert stale(made, committed_copy(seeded, tmp_path / "b", bound=1))[0].startswith("claim 'value is positive'")


def test_refresh_takes_new_tolerances_but_refuses_moved_values(seeded, tmp_path):
    runs = run_seeds(seeded, [0, 1], log=lambda line: None)
    made = record(committed_copy(seeded, tmp_path), runs, "a setting")
    wider = committed_copy(seeded, tmp_path / "a", atol=5)
    assert stale(made, wider) == ["tolerance of value: ± 4 in the report, ± 5 in the notebook"]
    refreshed = refresh(made, wider)
    assert stale(refreshed, wider) == [] and refreshed["runs"] == made["runs"] and "| ± 5 |" in render(refreshed)
    with pytest.raises(ValueError, match="measured value value: 10.5 in the report, 11.0 in the notebook"):
        refresh(made, committed_copy(seeded, tmp_path / "b", value=11.0))


def test_report_names_and_remake_commands_follow_the_setting(tmp_path):
    notebook = tmp_path / "lifting.ipynb"
    assert report_stem(notebook, "default", None, {}, list(range(10))) == "lifting"
    assert report_stem(notebook, "avx2", 1, {}, list(range(10))) == "lifting-avx2-1threads"
    assert report_stem(notebook, "default", None, {}, list(range(10, 20))) == "lifting-seeds10-19"
    assert report_stem(notebook, "default", None, {}, [0, 3, 4]) == "lifting-seeds0_3-4"
    assert remake_command(notebook, "10-19", "avx2", 1, [("noise", "[0.1, 0.2]")]) == (
        "overparam robustness lifting --seeds 10-19 --code-path avx2 --threads 1 -p noise '[0.1, 0.2]' "
        "--report book/robustness")


def test_a_written_report_keeps_the_notebooks_order_of_values(tmp_path):
    value = {"atol": 1.0}
    made = {"notebook": "notebooks/x.ipynb", "setting": "a setting", "command": "",
            "committed": {"values": {"zeta": {"value": 1.0, **value}, "alpha": {"value": 2.0, **value}}, "claims": []},
            "runs": [{"seed": 0, "seconds": 1.0, "error": None, "claims": [],
                      "values": {"zeta": {"value": 1.0, **value}, "alpha": {"value": 2.0, **value}}}]}
    text = write_report(tmp_path, "x", made).read_text()
    assert text == render(load_record(tmp_path / "x.json"))
    assert text.index("| zeta |") < text.index("| alpha |")
