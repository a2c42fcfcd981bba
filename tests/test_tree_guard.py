"""A test run never writes into the tracked tree: conftest.py fails the session if one does."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_in_repo(tmp_path: Path, test_body: str) -> subprocess.CompletedProcess:
    """pytest, with this repository's conftest.py, in a fresh git repository holding one tracked file."""
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "tracked.txt").write_text("committed\n")
    (tmp_path / "test_it.py").write_text(f"from pathlib import Path\n\ndef test_it():\n    {test_body}\n")
    git = lambda *args: subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_it.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_run_that_writes_a_tracked_or_new_file_fails(tmp_path):
    (tmp_path / "a").mkdir()
    wrote = run_in_repo(tmp_path / "a", "Path('tracked.txt').write_text('committed\\n')  # same bytes, new mtime")
    assert wrote.returncode != 0 and "the test run wrote into the repository's tree: tracked.txt" in wrote.stdout
    (tmp_path / "b").mkdir()
    created = run_in_repo(tmp_path / "b", "Path('new.png').write_bytes(b'x')")
    assert created.returncode != 0 and "new.png" in created.stdout
    (tmp_path / "c").mkdir()
    clean = run_in_repo(tmp_path / "c", "Path('tracked.txt').read_text()")
    assert clean.returncode == 0, clean.stdout
