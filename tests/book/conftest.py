"""Fixtures of the machinery's tests."""

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def book(tmp_path):
    """A copy of the book's sources (so runs and builds never touch the working tree)."""
    src = tmp_path / "book"
    for name in ("_config.yml", "_toc.yml"):
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, src / name)
    for folder in ("book", "notebooks", "_ext"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return src
