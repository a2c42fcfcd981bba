"""The package's layout: the science never imports the configs or the book's machinery, and imports without them.

Three layers, each importing only those before it: the science (every module of
``overparam_lib`` outside the two subpackages below: data, models, solvers, closed forms
in ``theory/``, claims, figures), the notebook configs (``overparam_lib/configs/``), and
the book's machinery (``overparam_lib/book/``). Notebooks import all three.
"""

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import overparam_lib

PACKAGE = Path(overparam_lib.__file__).parent
LAYERS = ("science", "configs", "book")  # each may import only itself and the layers before it
MACHINERY_THIRD_PARTY = ("papermill", "nbclient", "nbformat", "jupyter_book", "sphinx", "nbval", "pytest", "playwright")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    """The layer of ``overparam_lib.X[.Y]``: its subpackage if that is configs or book, else science."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ("configs", "book") else "science"


def library_imports(path: Path) -> set[str]:
    """Every ``overparam_lib`` module ``path`` imports, anywhere in it (a function's lazy imports too)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..book import y
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # `from overparam_lib import book`
    return {name for name in found if name.split(".")[0] == "overparam_lib"}


def science_and_config_modules() -> list[str]:
    return sorted(module_name(p) for p in PACKAGE.rglob("*.py") if layer(module_name(p)) != "book")


def test_the_layers_are_what_the_layout_says():
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    assert {"overparam_lib.book.build", "overparam_lib.book.runner", "overparam_lib.book.cli"} <= modules
    assert {"overparam_lib.configs.profiles", "overparam_lib.theory.double_descent"} <= modules
    assert layer("overparam_lib.theory.double_descent") == "science" and layer("overparam_lib.configs") == "configs"
    assert not (PACKAGE / "__main__.py").exists(), "the command's entry point belongs to the machinery"


def test_no_module_imports_a_later_layer():
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        for imported in library_imports(path):
            if LAYERS.index(layer(imported)) > LAYERS.index(layer(importer)):
                wrong.append(f"{importer} ({layer(importer)}) imports {imported} ({layer(imported)})")
    assert not wrong, "imports across the layout's boundary the wrong way:\n" + "\n".join(wrong)


def test_the_import_check_sees_every_form_of_import(tmp_path, monkeypatch):
    # the check above must not pass because it misses an import: each form below is caught
    forms = ["from overparam_lib.book.build import x", "import overparam_lib.book.repro",
             "from overparam_lib import book", "from ..book import repro", "from .. import configs",
             "def f():\n    from overparam_lib.configs import configure"]
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "overparam_lib")
    (tmp_path / "overparam_lib" / "theory").mkdir(parents=True)
    for form in forms:
        source = tmp_path / "overparam_lib" / "theory" / "leaky.py"
        source.write_text(form + "\n")
        assert {layer(name) for name in library_imports(source)} & {"configs", "book"}, form


def test_science_and_configs_import_with_the_machinery_blocked():
    # The machinery and its third-party tools are made unimportable; every other module must still import.
    code = f"""
import builtins, importlib
real_import = builtins.__import__
def blocked(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and (name.split(".")[0] in {MACHINERY_THIRD_PARTY!r} or name.startswith("overparam_lib.book")
                       or (name == "overparam_lib" and "book" in (fromlist or ()))):
        raise ModuleNotFoundError(f"blocked: {{name}}", name=name)
    return real_import(name, globals, locals, fromlist, level)
builtins.__import__ = blocked
for module in {science_and_config_modules()!r}:
    importlib.import_module(module)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_notebook_imports_need_neither_papermill_nor_jupyter_book():
    # Colab installs only the library's core dependencies (see pyproject.toml): every
    # import of the library that a notebook makes must work there.
    notebooks = sorted((PACKAGE.parent / "notebooks").glob("*.ipynb"))
    lines = sorted({line for path in notebooks for cell in json.loads(path.read_text())["cells"]
                    if cell["cell_type"] == "code"
                    for line in "".join(cell["source"]).splitlines() if line.startswith("from overparam_lib")})
    assert len(lines) > 10, lines
    code = """
import builtins
real_import = builtins.__import__
def without_book_tools(name, *args, **kwargs):
    if name.split(".")[0] in ("papermill", "jupyter_book", "nbval", "playwright"):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    return real_import(name, *args, **kwargs)
builtins.__import__ = without_book_tools
""" + "\n".join(lines) + """
from overparam_lib.book.cli import main
assert main(["status"]) == 2  # the runner says what to install instead of a traceback
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "papermill is not installed: pip install -r requirements.txt" in result.stderr


def readme_layout() -> set[Path]:
    """Every path the README's layout block names, nested by indentation (two spaces a level)."""
    readme = (PACKAGE.parent / "README.md").read_text()
    block = re.search(r"## Layout\n+```\n(.*?)\n```", readme, re.DOTALL).group(1)
    parents: list[Path] = []
    named = set()
    for line in block.splitlines():
        depth = (len(line) - len(line.lstrip())) // 2
        names = re.split(r"\s{2,}", line.strip())[0]
        if line.startswith(" " * 20):  # the continuation of a description
            continue
        parents = parents[:depth]
        for name in names.split(", "):
            path = (parents[-1] if parents else Path()) / name.rstrip("/")
            named.add(path)
        if names.endswith("/"):
            parents.append(path)
    return named


def test_the_readme_layout_matches_the_tree():
    root = PACKAGE.parent
    named = readme_layout()
    assert Path("overparam_lib/theory/double_descent.py") in named  # the parser sees nesting
    missing = sorted(str(p) for p in named if not (root / p).exists())
    assert not missing, f"the README's layout names paths that do not exist: {missing}"
    modules = {p.relative_to(root) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py"}
    unlisted = sorted(str(p) for p in modules - named)
    assert not unlisted, f"modules missing from the README's layout: {unlisted}"


def test_every_subpackage_is_installed_outside_an_editable_install():
    # Colab installs from GitHub, not editable: a folder without __init__.py, or one the
    # pyproject's package list misses, would work here and be missing there.
    import tomllib

    from setuptools import find_packages

    root = PACKAGE.parent
    include = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    folders = {module_name(p.parent / "__init__.py") for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    assert set(find_packages(where=root, include=include)) == folders
    assert all((root / f.replace(".", "/") / "__init__.py").is_file() for f in folders)
