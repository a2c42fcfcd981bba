"""``overparam robustness``: seeds, code paths, runs of a notebook at many seeds, and the report."""

import nbformat
import pytest

from overparam_lib.book.robustness import SeedRun, code_path_env, parse_seeds, report, run_seeds
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
