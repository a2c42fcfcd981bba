"""Colab and Binder: the repository address from ``_config.yml`` and the notebooks' install cell."""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml

#: Tag of the install cell: the first cell of every notebook, removed from the HTML.
INSTALL_TAG = "remove-cell"

_INSTALL_CELL = '''\
# Installs the book's library where it is missing (Colab, a bare Binder); does nothing
# where it is installed. Colab keeps its own torch: the library accepts any torch >= 2.4.
import importlib, importlib.util, pathlib, subprocess, sys
if importlib.util.find_spec("overparam_lib") is None:
    in_clone = pathlib.Path("../pyproject.toml").is_file()
    source = ".." if in_clone else "git+{url}@{branch}"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source], check=True)
    importlib.invalidate_caches()'''


def repository(root: Path) -> tuple[str, str]:
    """The repository URL and branch set in ``root/_config.yml`` (key ``repository``)."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    repo = config.get("repository") or {}
    if not str(repo.get("url", "")).startswith("https://github.com/"):
        raise ValueError(f"_config.yml: repository.url = {repo.get('url')!r}; expected https://github.com/OWNER/NAME")
    return repo["url"].rstrip("/"), repo.get("branch", "main")


def install_cell_source(url: str, branch: str) -> str:
    """The source of the install cell for the repository at ``url`` (GitHub) and ``branch``."""
    return _INSTALL_CELL.format(url=url, branch=branch)


def has_install_cell(nb: nbformat.NotebookNode) -> bool:
    """Whether the notebook's first cell is an install cell (tagged, and written by this module)."""
    first = nb.cells[0] if nb.cells else None
    return bool(first and first.cell_type == "code" and INSTALL_TAG in first.metadata.get("tags", [])
                and first.source.startswith(_INSTALL_CELL.splitlines()[0]))


def sync_install_cell(path: Path, url: str, branch: str) -> bool:
    """Make ``path``'s first cell the install cell for ``url``; returns whether the file changed."""
    nb = nbformat.read(path, as_version=4)
    source = install_cell_source(url, branch)
    if has_install_cell(nb):
        if nb.cells[0].source == source:
            return False
        nb.cells[0].source = source
    else:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": [INSTALL_TAG]}, id="install-library")
        nb.cells.insert(0, cell)
    nbformat.write(nb, path)
    return True
