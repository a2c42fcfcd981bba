"""The notebooks as papermill runs them, and the book as Jupyter Book builds it."""

import re
import shutil
from pathlib import Path

import nbformat
import papermill
import pytest

from overparam_lib.book import (
    FIGURES_ENV_VAR,
    book_notebooks,
    build_html,
    execute,
    save_book_figure,
    strip_volatile_metadata,
)
from overparam_lib.launch import (
    has_install_cell,
    install_cell_source,
    repository,
    sync_install_cell,
)
from overparam_lib.params import (
    CleanLabelsConfig,
    DeepDoubleDescentConfig,
    OptimalRegularizationConfig,
    RandomFeaturesConfig,
    RidgelessConfig,
)

ROOT = Path(__file__).resolve().parents[1]


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


def _tiny_book(root: Path, code: str) -> Path:
    """A book folder (``_toc.yml``, ``book/figures``) holding one notebook with ``code``."""
    (root / "book" / "figures").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = root / "notebooks" / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


_SAVES_A_FIGURE = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from overparam_lib.book import save_book_figure
print(save_book_figure(plt.figure(), "tiny.png") is not None)
"""


def test_execute_replaces_notebook_and_figures_only_when_every_cell_succeeds(tmp_path):
    path = _tiny_book(tmp_path / "failing", _SAVES_A_FIGURE + "raise ValueError('boom')")
    before = path.read_bytes()
    result = execute(path)
    assert result.error == "ValueError: boom"
    assert path.read_bytes() == before
    assert not list((path.parents[1] / "book" / "figures").iterdir())  # the figure it saved is not kept

    path = _tiny_book(tmp_path / "good", _SAVES_A_FIGURE)
    assert execute(path).error is None
    assert nbformat.read(path, as_version=4).cells[0].outputs[0]["text"] == "True\n"
    assert (path.parents[1] / "book" / "figures" / "tiny.png").read_bytes().startswith(b"\x89PNG")


def test_every_notebook_starts_with_the_install_cell_for_the_configured_repository(tmp_path):
    url, branch = repository(ROOT)
    expected = install_cell_source(url, branch)
    for path in book_notebooks(ROOT):
        first = nbformat.read(path, as_version=4).cells[0]
        assert has_install_cell(nbformat.read(path, as_version=4)), f"{path.name}: first cell is not the install cell"
        assert first.source == expected, f"{path.name}: install cell differs from _config.yml's repository: run `overparam install-cells`"
        assert not first.outputs, f"{path.name}: the install cell printed something where the library is installed"
    # writing it is idempotent, and replaces a cell written for another address
    copy = tmp_path / "nb.ipynb"
    shutil.copy(book_notebooks(ROOT)[0], copy)
    assert not sync_install_cell(copy, url, branch)
    assert sync_install_cell(copy, "https://github.com/someone/fork", "dev")
    assert "git+https://github.com/someone/fork@dev" in nbformat.read(copy, as_version=4).cells[0].source
    assert len(nbformat.read(copy, as_version=4).cells) == len(nbformat.read(book_notebooks(ROOT)[0], as_version=4).cells)


def test_install_cell_installs_from_the_clone_or_from_github_only_when_the_library_is_missing(tmp_path, monkeypatch):
    import importlib.util
    import subprocess

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    code = install_cell_source("https://github.com/o/r", "main")
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    exec(code, {})  # noqa: S102 (the cell's own code)  the library is installed here: nothing to do
    assert calls == []
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    exec(code, {})  # noqa: S102  a clone: install it from ".."
    monkeypatch.chdir(tmp_path)
    exec(code, {})  # noqa: S102  Colab: no clone, install from GitHub
    assert [c[-1] for c in calls] == ["..", "git+https://github.com/o/r@main"]


def test_strip_volatile_metadata_drops_timestamps_only():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    nb.metadata["papermill"] = {"duration": 1.0}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.cells[0].metadata.update({"papermill": {"start_time": "x"}, "execution": {"iopub.status.idle": "y"}, "tags": ["a"]})
    strip_volatile_metadata(nb)
    assert "papermill" not in nb.metadata and "widgets" not in nb.metadata and nb.cells[0].metadata == {"tags": ["a"]}


def test_book_builds_strictly_with_glued_numbers_figure_and_bibliography(tmp_path):
    # build a copy so the test never touches the working tree's _build/
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns("_build", ".venv", ".git", "*.egg-info", "__pycache__", ".pytest_cache"))
    assert build_html(src, strict=True, output=tmp_path) == 0, "jupyter-book build -W -n --keep-going failed"
    html = tmp_path / "_build" / "html"
    chapter = (html / "book" / "double_descent.html").read_text()
    assert "pasted-text" in chapter  # glued numbers
    image = re.search(r'<img[^>]*src="([^"]*ridgeless_risk[^"]*\.png)"', chapter)
    assert image and (html / "book" / image.group(1)).resolve().is_file(), "chapter figure missing from the build"
    assert "ridgeless_least_squares.ipynb::" not in chapter
    assert "Hastie" in chapter
    intro = (html / "book" / "intro.html").read_text()
    assert "pasted-text" in intro
    bibliography = (html / "book" / "bibliography.html").read_text()
    for author in ("Allen-Zhu", "Frankle", "Hastie", "Nakkiran", "Zhang"):
        assert author in bibliography
    assert (html / "notebooks" / "ridgeless_least_squares.html").is_file()
    status = (html / "book" / "execution_status.html").read_text()
    assert status.count("overparam-lib") == len(book_notebooks(ROOT)) and "Python 3." in status
    assert "mathjax/tex-chtml.js" in intro and "cdn.jsdelivr" not in intro  # MathJax served locally
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert_launch_buttons(html, *repository(ROOT))
    for notebook, call in (("ridgeless_least_squares", "ridge_risk_explorer"), ("deep_double_descent", "sweep_explorer")):
        page = (html / "notebooks" / f"{notebook}.html").read_text()
        after_explorer = page[page.rindex(call):]  # the explorer's cell, not the imports
        assert re.match(r'(?s)((?!<div class="cell).)*<div class="cell_output[^>]*>\s*<img', after_explorer), (
            f"{notebook}: the explorer's static figure is not in the HTML"
        )
        assert "widget-view" not in page  # no live widget (and no widget JavaScript) where no kernel runs


def assert_launch_buttons(html, url, branch):
    """Every notebook page links Binder and Colab to its own .ipynb in the repository."""
    owner_name = url.removeprefix("https://github.com/")
    for path in book_notebooks(ROOT):
        page = (html / "notebooks" / f"{path.stem}.html").read_text()
        links = set(re.findall(r'href="(https://(?:mybinder\.org|colab\.research\.google\.com)[^"]*)"', page))
        assert links == {
            f"https://mybinder.org/v2/gh/{owner_name}/{branch}?urlpath=lab/tree/notebooks/{path.name}",
            f"https://colab.research.google.com/github/{owner_name}/blob/{branch}/notebooks/{path.name}",
        }, f"{path.stem}.html: launch links {links}"


def test_environment_yml_has_the_same_pins_as_requirements():
    pins = lambda lines: sorted(l.strip().lstrip("- ").strip() for l in lines if re.match(r"^\s*-?\s*[A-Za-z0-9_.-]+==", l))
    requirements = pins((ROOT / "requirements.txt").read_text().splitlines())
    environment = pins((ROOT / "environment.yml").read_text().splitlines())
    assert requirements and requirements == environment
    assert "torch==2.13.0" in requirements


def test_chapter_figures_are_written_only_into_the_folder_the_environment_names(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    monkeypatch.delenv(FIGURES_ENV_VAR, raising=False)  # tests, a kernel of one's own, Colab
    monkeypatch.chdir(tmp_path)
    assert save_book_figure(fig, "default.png") is None
    assert not list(tmp_path.iterdir())
    monkeypatch.setenv(FIGURES_ENV_VAR, str(tmp_path))  # overparam execute / run: a scratch folder
    assert save_book_figure(fig, "default.png") == tmp_path / "default.png"
    assert (tmp_path / "default.png").read_bytes().startswith(b"\x89PNG")
    plt.close(fig)


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

    configs = {
        "ridgeless_least_squares.ipynb": RidgelessConfig,
        "deep_double_descent.ipynb": DeepDoubleDescentConfig,
        "deep_double_descent_clean_labels.ipynb": CleanLabelsConfig,
        "random_features.ipynb": RandomFeaturesConfig,
        "optimal_regularization.ipynb": OptimalRegularizationConfig,
    }
    for path in book_notebooks(ROOT):
        nb = nbformat.read(path, as_version=4)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        namespace: dict = {}
        exec(cell.source, namespace)
        defaults = asdict(configs[path.name]())
        assert {k: namespace[k] for k in defaults} == defaults, path.name
        assert set(namespace) - {"__builtins__"} == set(defaults), f"{path.name}: parameters not in the config"


def test_notebook_imports_need_neither_papermill_nor_jupyter_book():
    # Colab installs only the library's core dependencies (see pyproject.toml).
    code = """
import builtins
real_import = builtins.__import__
def without_book_tools(name, *args, **kwargs):
    if name.split(".")[0] in ("papermill", "jupyter_book", "nbval", "playwright"):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    return real_import(name, *args, **kwargs)
builtins.__import__ = without_book_tools
import overparam_lib.book, overparam_lib.data, overparam_lib.explorers, overparam_lib.params
import overparam_lib.random_features, overparam_lib.repro, overparam_lib.sweeps, overparam_lib.theory
from overparam_lib.cli import main
assert main(["status"]) == 2  # the runner says what to install instead of a traceback
"""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "papermill is not installed: pip install -r requirements.txt" in result.stderr
