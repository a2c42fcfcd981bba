"""``overparam run``: execute notebooks with a profile into a copy of the book, record each run.

The committed notebooks are what ``pytest --nbval`` compares against, so a run never
writes them: it stages the book (config, chapters, notebooks) under
``_build/runs/<profile>/``, executes notebooks there with papermill, and can build the
HTML from that copy. Every run appends a line to ``_build/runs/history.jsonl``, which
``overparam status`` prints as a table.
"""

from __future__ import annotations

import ast
import datetime
import hashlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import yaml
from tqdm import tqdm

from overparam_lib.book.build import (
    FIGURES_ENV_VAR,
    book_notebooks,
    run_papermill,
    strip_volatile_metadata,
)
from overparam_lib.errors import ParameterError
from overparam_lib.configs import PROFILES
from overparam_lib.progress import progress_enabled
from overparam_lib.book.repro import RUN_RECORD_ENV_VAR

_BOOK_FILES = ("_config.yml", "_toc.yml")
_BOOK_DIRS = ("book", "notebooks", "_ext")  # _ext: local Sphinx extensions _config.yml loads


@dataclass
class RunRecord:
    """One notebook run, as ``overparam status`` shows it."""

    notebook: str
    profile: str
    parameters: dict = field(default_factory=dict)
    device: str = "?"
    seconds: float = 0.0
    result: str = "ok"  # "ok" or "failed: <error>"
    finished: str = ""  # ISO time
    output: str = ""  # executed copy (or the failed run's notebook)


def runs_dir(root: Path) -> Path:
    return root / "_build" / "runs"


def chapters(root: Path) -> dict[str, list[str]]:
    """Chapter name -> the notebook stems among its sections, from ``_toc.yml``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found = {}
    for chapter in toc.get("chapters", []):
        sections = [s["file"] for s in chapter.get("sections", []) if s.get("file", "").startswith("notebooks/")]
        if sections:
            found[Path(chapter["file"]).name] = [Path(s).name for s in sections]
    return found


def resolve_targets(root: Path, targets: list[str]) -> list[Path]:
    """Notebooks named by ``targets``: ``all``, a chapter, a notebook name, stem or path."""
    notebooks = {p.stem: p for p in book_notebooks(root)}
    by_chapter = chapters(root)
    chosen: list[Path] = []
    for target in targets:
        stem = Path(target).stem
        if target == "all":
            names = list(notebooks)
        elif target in by_chapter:
            names = by_chapter[target]
        elif stem in notebooks:
            names = [stem]
        else:
            allowed = ["all", *by_chapter, *notebooks]
            raise ParameterError("target", target, f"one of {', '.join(allowed)}")
        chosen += [notebooks[n] for n in names if notebooks[n] not in chosen]
    return chosen


def parse_parameters(pairs: list[tuple[str, str]], notebooks: list[Path]) -> dict:
    """``-p KEY VALUE`` pairs as Python values (YAML syntax: ``0.1``, ``[0.0, 0.2]``, ``adam``).

    Every key must be a parameter of every notebook it is given to.
    """
    values = {key: yaml.safe_load(value) for key, value in pairs}
    if "profile" in values:
        raise ParameterError("-p profile", values["profile"], "no -p profile: use --profile ci|full")
    for path in notebooks:
        allowed = notebook_parameters(path)
        for key, value in values.items():
            if key not in allowed:
                raise ParameterError(f"-p {key}", value, f"a parameter of {path.name}: {', '.join(allowed)}")
    return values


def notebook_parameters(path: Path) -> list[str]:
    """The names assigned in ``path``'s cell tagged ``parameters``."""
    cell = next(c for c in nbformat.read(path, as_version=4).cells if "parameters" in c.metadata.get("tags", []))
    assigned = [node.targets for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)]
    return [target.id for targets in assigned for target in targets if isinstance(target, ast.Name)]


def _sources(root: Path) -> list[Path]:
    """The committed files a staged book is made of."""
    files = [root / name for name in _BOOK_FILES]
    files += sorted(p for folder in _BOOK_DIRS for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files


def stage_book(root: Path, profile: str) -> Path:
    """The copy of the book that runs with ``profile`` execute into: ``_build/runs/<profile>/book``.

    Notebooks and figures from earlier runs are kept while the committed sources stay the
    same; once any source changes (an edit, a pull), the copy is made afresh, so a build
    never pairs new chapter text with notebooks executed from old code.
    """
    stage = runs_dir(root) / profile / "book"
    sources = _sources(root)
    digest = hashlib.sha256()
    for path in sources:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    marker = stage / ".sources-sha256"
    if marker.is_file() and marker.read_text() == digest.hexdigest():
        return stage
    shutil.rmtree(stage, ignore_errors=True)
    for path in sources:
        target = stage / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    marker.write_text(digest.hexdigest())
    return stage


def run_notebook(notebook: Path, stage: Path, profile: str, parameters: dict, timeout: int | None) -> RunRecord:
    """Execute the committed ``notebook`` and, only if it succeeds, put it and its figures in ``stage``.

    The notebook runs in a scratch tree (``notebooks/`` beside a ``figures/`` folder for
    :func:`~overparam_lib.book.build.save_book_figure`), so a run that fails halfway leaves
    neither its notebook nor its figures in the stage;
    the failed notebook is kept in ``_build/runs/<profile>/failed/`` for reading.
    """
    record = RunRecord(notebook.name, profile, parameters)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        executed, stamp, figures = scratch / "notebooks" / notebook.name, scratch / "stamp.json", scratch / "figures"
        executed.parent.mkdir()
        figures.mkdir()
        # The kernel writes its stamp to a file, and chapter figures whatever the profile (into the scratch tree).
        error = run_papermill(
            notebook, executed, {"profile": profile, **parameters}, executed.parent,
            env={RUN_RECORD_ENV_VAR: str(stamp), FIGURES_ENV_VAR: str(figures)}, timeout=timeout,
            progress_bar=progress_enabled(),
        )
        if error:
            record.result = f"failed: {error}"
        record.seconds = round(time.perf_counter() - start, 1)
        record.device = json.loads(stamp.read_text())["device"] if stamp.is_file() else "?"
        output = stage / "notebooks" / notebook.name if record.result == "ok" else stage.parent / "failed" / notebook.name
        output.parent.mkdir(parents=True, exist_ok=True)
        if executed.is_file():
            nbformat.write(strip_volatile_metadata(nbformat.read(executed, as_version=4)), output)
        if record.result == "ok":
            shutil.copytree(figures, stage / "book" / "figures", dirs_exist_ok=True)
    record.output = str(output)
    record.finished = datetime.datetime.now().isoformat(timespec="seconds")
    return record


def run(root: Path, notebooks: list[Path], profile: str, parameters: dict, timeout: int | None = None) -> list[RunRecord]:
    """Run ``notebooks`` with ``profile`` and ``parameters``; append each run to the history."""
    if profile not in PROFILES:
        raise ParameterError("profile", profile, f"one of {', '.join(map(repr, PROFILES))}")
    stage = stage_book(root, profile)
    records = []
    bar = tqdm(notebooks, desc=f"notebooks ({profile})", unit="nb", file=sys.stdout)
    for notebook in bar:
        bar.set_postfix_str(notebook.name)
        record = run_notebook(notebook, stage, profile, parameters, timeout)
        bar.write(f"{record.notebook}: {record.result} in {record.seconds:.1f} s on {record.device}")
        with open(runs_dir(root) / "history.jsonl", "a") as history:
            history.write(json.dumps(asdict(record)) + "\n")
        records.append(record)
    return records


def last_runs(root: Path) -> list[RunRecord]:
    """The latest run of each (notebook, profile), from the history."""
    path = runs_dir(root) / "history.jsonl"
    latest: dict[tuple[str, str], RunRecord] = {}
    for line in path.read_text().splitlines() if path.is_file() else []:
        record = RunRecord(**json.loads(line))
        latest[record.notebook, record.profile] = record
    return sorted(latest.values(), key=lambda r: (r.notebook, r.profile))


def status_table(records: list[RunRecord]) -> str:
    """A plain-text table: notebook, profile, device, seconds, result, finished."""
    header = ("notebook", "profile", "device", "seconds", "result", "finished")
    rows = [header] + [(r.notebook, r.profile, r.device, f"{r.seconds:.1f}", r.result, r.finished) for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
