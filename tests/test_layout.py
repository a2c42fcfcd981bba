"""The package's layout: each layer imports only the layers before it, the README's map matches the tree.

Three layers: the science (every module of ``overparam_lib`` outside the two
subpackages below: data, models, solvers, closed forms in ``theory/``, claims,
figures), the notebook configs (``overparam_lib/configs/``), and the book's machinery
(``overparam_lib/book/``). The science imports neither of the others, the configs do
not import the machinery; notebooks import all three. Checked twice: by reading every
module's imports, and by importing the modules of each layer with the later layers
(and the machinery's third-party tools) made unimportable.
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


def dotted(node: ast.AST) -> str:
    """``a.b.c`` for an attribute chain on a name, else ''."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else ""


def library_imports(path: Path) -> set[str]:
    """Every ``overparam_lib`` module ``path`` names: its import statements (a function's lazy
    ones too), ``importlib.import_module``/``__import__`` of a constant, and attribute chains
    such as ``overparam_lib.book.build``."""
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
        elif isinstance(node, ast.Call) and dotted(node.func) in ("importlib.import_module", "import_module", "__import__"):
            found |= {arg.value for arg in node.args[:1] if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
        elif isinstance(node, ast.Attribute):
            found.add(dotted(node))
    return {name for name in found if name.split(".")[0] == "overparam_lib"}


def modules_of(*layers: str) -> list[str]:
    return sorted(module_name(p) for p in PACKAGE.rglob("*.py") if layer(module_name(p)) in layers)


def test_the_three_layers_exist_and_the_command_lives_in_the_machinery():
    assert {"overparam_lib.data", "overparam_lib.train", "overparam_lib.theory.double_descent"} <= set(modules_of("science"))
    assert {"overparam_lib.configs.profiles", "overparam_lib.configs.double_descent"} <= set(modules_of("configs"))
    assert {"overparam_lib.book.build", "overparam_lib.book.runner", "overparam_lib.book.cli"} <= set(modules_of("book"))
    assert not (PACKAGE / "__main__.py").exists(), "the command's entry point belongs to the machinery"


def test_no_module_imports_a_later_layer():
    wrong = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = module_name(path)
        for imported in library_imports(path):
            if LAYERS.index(layer(imported)) > LAYERS.index(layer(importer)):
                wrong.add(f"{importer} ({layer(importer)}) names {imported} ({layer(imported)})")
    assert not wrong, "imports across the layout's boundary the wrong way:\n" + "\n".join(sorted(wrong))


def test_the_import_check_sees_every_form_of_import(tmp_path, monkeypatch):
    # the check above must not pass because it misses an import: each form below is caught
    forms = ["from overparam_lib.book.build import x", "import overparam_lib.book.repro",
             "from overparam_lib import book", "from ..book import repro", "from .. import configs",
             "def f():\n    from overparam_lib.configs import configure",
             "import importlib\nimportlib.import_module('overparam_lib.book.build')",
             "from importlib import import_module\nimport_module('overparam_lib.configs')",
             "def f():\n    return __import__('overparam_lib.book.runner')",
             "import overparam_lib\nf = overparam_lib.book.build.save_book_figure"]
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "overparam_lib")
    (tmp_path / "overparam_lib" / "theory").mkdir(parents=True)
    source = tmp_path / "overparam_lib" / "theory" / "leaky.py"
    for form in forms:
        source.write_text(form + "\n")
        assert {layer(name) for name in library_imports(source)} & {"configs", "book"}, form
    source.write_text("from overparam_lib.data import mnist1d\nimport overparam_lib.theory\n")
    assert {layer(name) for name in library_imports(source)} == {"science"}


BLOCKER = """
import importlib, sys
class Blocked:
    # first on sys.meta_path: every way of importing (statements, importlib, __import__) asks it
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {third_party!r} or any(name.startswith(p) for p in {prefixes!r}):
            raise ModuleNotFoundError(f"blocked: {{name}}", name=name)
        return None
sys.meta_path.insert(0, Blocked())
"""


def run_blocked(code: str, third_party: tuple[str, ...], prefixes: list[str]) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter where those packages and module prefixes cannot be imported."""
    prelude = BLOCKER.format(third_party=third_party, prefixes=prefixes)
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, check=False)


def import_blocked(modules: list[str], prefixes: list[str]) -> subprocess.CompletedProcess:
    return run_blocked(f"for module in {modules!r}:\n    importlib.import_module(module)\n", MACHINERY_THIRD_PARTY, prefixes)


def test_each_layer_imports_with_the_later_layers_blocked():
    science = import_blocked(modules_of("science"), ["overparam_lib.configs", "overparam_lib.book"])
    assert science.returncode == 0, science.stderr
    configs = import_blocked(modules_of("configs"), ["overparam_lib.book"])
    assert configs.returncode == 0, configs.stderr
    # and the blocker does block: the machinery does not import without its tools
    machinery = import_blocked(["overparam_lib.book.runner"], [])
    assert machinery.returncode != 0 and "blocked: nbformat" in machinery.stderr


def test_notebook_imports_need_neither_papermill_nor_jupyter_book():
    # Colab installs only the library's core dependencies (see pyproject.toml): every
    # import of the library that a notebook makes must work there.
    notebooks = sorted((PACKAGE.parent / "notebooks").glob("*.ipynb"))
    lines = sorted({line for path in notebooks for cell in json.loads(path.read_text())["cells"]
                    if cell["cell_type"] == "code"
                    for line in "".join(cell["source"]).splitlines() if line.startswith("from overparam_lib")})
    assert len(lines) > 10, lines
    code = "\n".join(lines) + """
from overparam_lib.book.cli import main
assert main(["status"]) == 2  # the runner says what to install instead of a traceback
"""
    result = run_blocked(code, ("papermill", "jupyter_book", "nbval", "playwright"), [])
    assert result.returncode == 0, result.stderr
    assert "papermill is not installed: pip install -r requirements.txt" in result.stderr


def readme_layout() -> set[Path]:
    """Every path the README's layout block names, nested by indentation (two spaces a level)."""
    readme = (PACKAGE.parent / "README.md").read_text()
    block = re.search(r"## Layout\n+```\n(.*?)\n```", readme, re.DOTALL).group(1)
    parents: list[Path] = []
    named = set()
    for line in block.splitlines():
        if line.startswith(" " * 20):  # the continuation of a description
            continue
        depth = (len(line) - len(line.lstrip())) // 2
        names = re.match(r"[\w./-]+(, [\w./-]+)*", line.strip()).group(0)
        parents = parents[:depth]
        for name in names.split(", "):
            path = (parents[-1] if parents else Path()) / name.rstrip("/")
            named |= {path, *path.parents[:-1]}  # `.ci/run` names `.ci` too
        if names.endswith("/"):
            parents.append(path)
    return named


def test_the_readme_layout_matches_the_tree():
    root = PACKAGE.parent
    named = readme_layout()
    assert {Path("overparam_lib/theory/double_descent.py"), Path("tests/configs")} <= named  # the parser sees nesting
    missing = sorted(str(p) for p in named if not (root / p).exists())
    assert not missing, f"the README's layout names paths that do not exist: {missing}"
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True).stdout.split()
    folders = {Path(f).parents[-2] for f in tracked if "/" in f}  # top-level folders
    folders |= {Path(f).parent for f in tracked if f.startswith("tests/") and f.count("/") == 2}
    if tracked:  # outside a git checkout only the modules are checked
        unlisted = sorted(str(p) for p in folders - named)
        assert not unlisted, f"folders missing from the README's layout: {unlisted}"
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
