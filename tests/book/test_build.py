"""Executing notebooks (papermill) and the chapter figures they save. The strict build of the whole
book is checked in ``test_browser.py``, which serves that same build to Chromium."""

from pathlib import Path

import nbformat

from overparam_lib.book.build import (
    FIGURES_ENV_VAR,
    execute,
    save_book_figure,
    strip_volatile_metadata,
)


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
from overparam_lib.book.build import save_book_figure
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


def test_strip_volatile_metadata_drops_timestamps_only():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    nb.metadata["papermill"] = {"duration": 1.0}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.cells[0].metadata.update({"papermill": {"start_time": "x"}, "execution": {"iopub.status.idle": "y"}, "tags": ["a"]})
    strip_volatile_metadata(nb)
    assert "papermill" not in nb.metadata and "widgets" not in nb.metadata and nb.cells[0].metadata == {"tags": ["a"]}


def test_strip_volatile_metadata_merges_a_print_split_across_messages():
    stream = lambda name, text: nbformat.v4.new_output("stream", name=name, text=text)
    cell = nbformat.v4.new_code_cell("print(1); print(2)")
    cell.outputs = [stream("stdout", "1\n"), stream("stdout", "2\n"), stream("stderr", "w\n"), stream("stdout", "3\n")]
    nb = strip_volatile_metadata(nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell("text")]))
    assert [(o.name, o.text) for o in nb.cells[0].outputs] == [("stdout", "1\n2\n"), ("stderr", "w\n"), ("stdout", "3\n")]
    assert "outputs" not in nb.cells[1]


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
