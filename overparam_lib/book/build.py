"""Execute the book's notebooks with papermill and build the HTML with Jupyter Book."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from tqdm import tqdm

from overparam_lib.progress import PROGRESS_ENV_VAR

#: The folder :func:`save_book_figure` writes chapter figures to. Only ``overparam execute``
#: and ``overparam run`` set it, each to a scratch folder whose figures they move into the
#: book (or its staged copy) once the notebook has succeeded; unset (tests, a kernel of
#: one's own, Colab), chapter figures are not written at all.
FIGURES_ENV_VAR = "OVERPARAM_FIGURES_DIR"

# Metadata that papermill and nbclient write on every run (timestamps, durations,
# paths, widget states with random ids); dropped so that re-executing a notebook
# changes nothing when its outputs don't.
_VOLATILE_NOTEBOOK_KEYS = ("papermill", "widgets")
_VOLATILE_CELL_KEYS = ("papermill", "execution")


@dataclass
class RunResult:
    """Outcome of executing one notebook."""

    notebook: Path
    seconds: float
    error: str | None = None


def find_root(start: Path | None = None) -> Path:
    """The book's root: the nearest folder (from ``start`` up) holding ``_toc.yml``."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "_toc.yml").is_file():
            return folder
    raise FileNotFoundError(f"no _toc.yml in {start} or its parents: run this from the book's repository")


def book_notebooks(root: Path) -> list[Path]:
    """The committed notebooks, in name order."""
    return sorted(p for p in (root / "notebooks").glob("*.ipynb") if not p.name.startswith("."))


def strip_volatile_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove per-run timestamps and durations so identical runs give identical files.

    Consecutive stream outputs of one cell are merged too: how a kernel splits its prints
    into messages depends on the machine's load, not on what was printed.
    """
    for key in _VOLATILE_NOTEBOOK_KEYS:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        merged = []
        for output in cell.get("outputs", []):
            previous = merged[-1] if merged else None
            if previous and output.output_type == previous.output_type == "stream" and output.name == previous.name:
                previous.text += output.text
            else:
                merged.append(output)
        if "outputs" in cell:
            cell.outputs = merged
    return nb


@contextlib.contextmanager
def environ(values: dict[str, str]):
    """Set environment variables (inherited by kernels started inside), then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_papermill(notebook: Path, executed: Path, parameters: dict, cwd: Path, env: dict[str, str] | None = None,
                  timeout: int | None = None, progress_bar: bool = False) -> str | None:
    """Execute ``notebook`` into ``executed`` with papermill; returns the error (``"Name: message"``) or None.

    The kernel inherits ``env`` and ``OVERPARAM_PROGRESS=0`` (no progress bars in outputs).
    papermill's own parameter check misreads our commented parameter cells (the runner
    checks names itself, :func:`overparam_lib.book.runner.notebook_parameters`), so its
    "unknown parameter" warnings are wrong and are hidden.
    """
    import papermill  # here, not at the top: notebooks import this module without papermill (Colab)
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    papermill_log = logging.getLogger("papermill")
    level = papermill_log.level
    papermill_log.setLevel(logging.ERROR)
    try:
        with environ({PROGRESS_ENV_VAR: "0", **(env or {})}):
            papermill.execute_notebook(
                str(notebook), str(executed), parameters=parameters, kernel_name="python3", cwd=str(cwd),
                progress_bar=progress_bar, execution_timeout=timeout,
            )
    except papermill.PapermillExecutionError as exc:
        return f"{exc.ename}: {exc.evalue}"
    except (CellTimeoutError, DeadKernelError) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        papermill_log.setLevel(level)
    return None


def execute(notebook: Path, parameters: dict | None = None, timeout: int = 600) -> RunResult:
    """Run ``notebook`` with papermill and, only if every cell succeeds, replace it and its figures.

    The run writes the notebook and the chapter figures (:func:`save_book_figure`) to a
    temporary folder first, so a failing notebook leaves the committed one and
    ``book/figures`` untouched (its error report is returned, not written).
    """
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        executed, figures = Path(tmp) / notebook.name, Path(tmp) / "figures"
        figures.mkdir()
        error = run_papermill(notebook, executed, parameters or {}, notebook.parent,
                              env={FIGURES_ENV_VAR: str(figures)}, timeout=timeout)
        if error:
            return RunResult(notebook, time.perf_counter() - start, error)
        nbformat.write(strip_volatile_metadata(nbformat.read(executed, as_version=4)), notebook)
        shutil.copytree(figures, find_root(notebook.parent) / "book" / "figures", dirs_exist_ok=True)
    return RunResult(notebook, time.perf_counter() - start)


def execute_all(notebooks: list[Path]) -> list[RunResult]:
    """Execute each notebook in turn, with a progress bar and one result line per notebook."""
    results = []
    bar = tqdm(notebooks, desc="notebooks", unit="nb", file=sys.stdout)
    for notebook in bar:
        bar.set_postfix_str(notebook.name)
        result = execute(notebook)
        status = "ok" if result.error is None else f"FAILED ({result.error})"
        bar.write(f"{notebook.name}: {status} in {result.seconds:.1f} s")
        results.append(result)
    return results


def build_html(root: Path, strict: bool = True, output: Path | None = None) -> int:
    """Build ``root`` into ``output/_build/html`` (default: ``root/_build/html``).

    ``strict`` turns warnings into errors (``-W -n --keep-going``). Returns the
    exit status of ``jupyter-book build``.
    """
    if importlib.util.find_spec("jupyter_book") is None:
        raise RuntimeError("building the HTML needs Jupyter Book: pip install -r requirements.txt (or overparam-lib[book])")
    output = output or root
    html = output / "_build" / "html"
    if html.exists():  # a stale page from a removed chapter must not survive
        shutil.rmtree(html)
    jupyter_book = "from jupyter_book.cli.main import main; main()"  # the CLI, run by this interpreter
    cmd = [sys.executable, "-c", jupyter_book, "build", str(root), "--path-output", str(output)]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    status = subprocess.run(cmd, cwd=root).returncode
    if status == 0 and not (html / "index.html").is_file():
        raise RuntimeError(f"jupyter-book reported success but wrote no {html / 'index.html'}")
    return status


def save_book_figure(fig, name: str) -> Path | None:
    """Save ``fig`` as ``name`` in the folder that :data:`FIGURES_ENV_VAR` names, if it names one.

    Chapter pages embed these files. Only the deliberate refresh (``overparam execute``,
    default parameters) and the runner (``overparam run``, into a copy of the book) set
    the folder; a test run, a run with other parameters in a kernel of one's own, or a
    notebook opened alone in Colab writes nothing, so the book's figures always come from
    the committed default run. Returns the path written, or None.
    """
    folder = os.environ.get(FIGURES_ENV_VAR)
    if not folder:
        return None
    path = Path(folder) / name
    fig.savefig(path, dpi=150)
    return path
