"""What every notebook of the book must be: a parameters cell equal to its config, validation first, figures by name."""

import importlib
import re
from pathlib import Path

import nbformat
import papermill
import pytest

from overparam_lib.book.build import book_notebooks

ROOT = Path(__file__).resolve().parents[1]


def notebook_config(nb: nbformat.NotebookNode) -> type:
    """The config class a notebook passes to ``configure``, imported from its chapter's config module."""
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    configured = re.findall(r"configure\((\w+), ", source)
    assert len(configured) == 1, f"configure() called {len(configured)} times"
    module = re.search(rf"from (overparam_lib\.configs\.\w+) import [\w, ]*\b{configured[0]}\b", source)
    assert module, f"{configured[0]} is not imported from a module of overparam_lib.configs"
    return getattr(importlib.import_module(module.group(1)), configured[0])


def test_every_notebook_has_a_parameters_cell_with_a_profile():
    notebooks = book_notebooks(ROOT)
    assert notebooks, "no notebooks found"
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters'"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code[1] is tagged[0], f"{path.name}: the parameters cell must follow the install cell"
        assert re.search(r'^profile = "ci"', tagged[0].source, re.MULTILINE), f"{path.name}: default profile is not 'ci'"


@pytest.mark.parametrize(
    "parameters, message",
    [
        ({"n_train": -5}, "n_train = -5 is not allowed: expected a positive integer"),
        ({"profile": "huge"}, "profile = 'huge' is not allowed: expected one of 'ci', 'full'"),
    ],
)
def test_bad_parameter_stops_notebook_at_validation(tmp_path, parameters, message):
    notebook = ROOT / "notebooks" / "ridgeless_least_squares.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(str(notebook), str(tmp_path / "out.ipynb"), parameters=parameters,
                                   kernel_name="python3", progress_bar=False, cwd=str(notebook.parent))
    assert err.value.ename == "ParameterError" and message in err.value.evalue
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    failed_at = next(i for i, c in enumerate(executed.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", [])))
    assert "configure(" in executed.cells[failed_at].source  # stopped at the validation cell, before any computing


def test_notebooks_save_chapter_figures_by_name_only():
    # a path would write beside the notebook wherever it runs; a bare name goes to the scratch folder
    for path in book_notebooks(ROOT):
        source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        calls = re.findall(r"save_book_figure\((.*?)\)", source)
        assert calls, f"{path.name} saves no chapter figure"
        for call in calls:
            assert re.fullmatch(r'fig, "[\w.]+\.png"', call), f"{path.name}: save_book_figure({call})"


def test_parameters_cell_defaults_equal_the_config_defaults():
    # configure() treats any value that differs from the dataclass default as the
    # experimenter's choice, so the two sets of defaults must agree exactly.
    from dataclasses import asdict

    for path in book_notebooks(ROOT):
        nb = nbformat.read(path, as_version=4)
        config_cls = notebook_config(nb)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        namespace: dict = {}
        exec(cell.source, namespace)
        defaults = asdict(config_cls())
        assert {k: namespace[k] for k in defaults} == defaults, path.name
        assert set(namespace) - {"__builtins__"} == set(defaults), f"{path.name}: parameters not in the config"


def test_every_notebooks_full_profile_validates():
    # the full profile is the one a reader picks on a GPU: its sizes must pass the same checks, and
    # every name in FULL must be a parameter (a misspelt one would silently keep the ci size)
    from dataclasses import fields

    from overparam_lib.configs.profiles import configure

    for path in book_notebooks(ROOT):
        config_cls = notebook_config(nbformat.read(path, as_version=4))
        assert set(config_cls.FULL) <= {f.name for f in fields(config_cls)}, path.name
        full = configure(config_cls, {"profile": "full"})
        assert full.profile == "full" and all(getattr(full, k) == v for k, v in config_cls.FULL.items()), path.name
