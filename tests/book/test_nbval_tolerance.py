"""The nbval plugin, end to end: a notebook committed at one value is re-run by ``pytest --nbval``
at others; measured values pass within their tolerance and fail outside it, everything else is
still compared as text."""

import os
import subprocess
import sys

import nbformat
import papermill
import pytest

CELLS = [
    "import os\nfrom myst_nb import glue\nfrom overparam_lib.claims import Claims, measured\n"
    "x = float(os.environ.get('X_VALUE', '1.0'))",
    "measured('x', x, atol=0.5)  # a trajectory-dependent number",
    "glue('exact', int(os.environ.get('EXACT', '3')), display=False)  # an exact number",
    "claims = Claims()\nclaims.at_least('x is large enough', x, float(os.environ.get('BOUND', '0')))\nclaims.check()",
    "print('exact text', os.environ.get('EXACT', '3'))",
]


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    """The notebook executed at X_VALUE = 1.0, as it would be committed."""
    folder = tmp_path_factory.mktemp("nbval")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "source.ipynb")
    papermill.execute_notebook(str(folder / "source.ipynb"), str(folder / "committed.ipynb"), kernel_name="python3",
                               progress_bar=False, cwd=str(folder))
    return folder / "committed.ipynb"


def nbval(notebook, plugin=True, **env):
    """``pytest --nbval`` on ``notebook`` in a fresh process (outside this repository's conftest)."""
    args = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-p", "no:cacheprovider", "-q",
            str(notebook.name)]
    if plugin:
        args[3:3] = ["-p", "overparam_lib.book.nbval_tolerance"]
    env = {**os.environ, "X_VALUE": "1.0", "EXACT": "3", "BOUND": "0", **env}
    return subprocess.run(args, cwd=notebook.parent, env=env, capture_output=True, text=True, timeout=300)


def test_a_measured_value_within_its_tolerance_passes(committed):
    result = nbval(committed, X_VALUE="1.4")
    assert result.returncode == 0, result.stdout[-3000:]


def test_without_the_plugin_the_same_run_fails_as_text(committed):
    result = nbval(committed, plugin=False, X_VALUE="1.4")
    assert result.returncode != 0 and "2 failed" in result.stdout, result.stdout[-3000:]  # the value and the claims table


def test_a_measured_value_outside_its_tolerance_fails(committed):
    result = nbval(committed, X_VALUE="1.6")
    assert result.returncode != 0, result.stdout[-3000:]
    assert "measured value 'x': committed 1.0, now 1.6, outside the tolerance ± 0.5" in result.stdout


def test_exact_outputs_and_claim_bounds_are_still_compared_exactly(committed):
    exact = nbval(committed, EXACT="4")
    assert exact.returncode != 0 and "2 failed" in exact.stdout, exact.stdout[-3000:]  # the glued value and the print
    bound = nbval(committed, BOUND="0.5")
    assert bound.returncode != 0 and "claims differ" in bound.stdout, bound.stdout[-3000:]
