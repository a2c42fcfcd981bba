"""Colab and Binder: the install cell every notebook starts with, and Binder's pinned environment."""

import re
import shutil
from pathlib import Path

import nbformat

from overparam_lib.book.build import book_notebooks
from overparam_lib.book.launch import has_install_cell, install_cell_source, repository, sync_install_cell

ROOT = Path(__file__).resolve().parents[2]


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


def test_environment_yml_has_the_same_pins_as_requirements():
    pins = lambda lines: sorted(l.strip().lstrip("- ").strip() for l in lines if re.match(r"^\s*-?\s*[A-Za-z0-9_.-]+==", l))
    requirements = pins((ROOT / "requirements.txt").read_text().splitlines())
    environment = pins((ROOT / "environment.yml").read_text().splitlines())
    assert requirements and requirements == environment
    assert "torch==2.13.0" in requirements
