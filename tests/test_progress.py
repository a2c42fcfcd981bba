"""Progress bars: shown in interactive sessions, silent where the environment says so (the tests)."""

from overparam_lib.progress import PROGRESS_ENV_VAR, progress_enabled


def test_progress_bars_follow_the_environment(monkeypatch):
    monkeypatch.setenv(PROGRESS_ENV_VAR, "0")
    assert not progress_enabled() and progress_enabled(True)
    monkeypatch.delenv(PROGRESS_ENV_VAR)
    assert progress_enabled() and not progress_enabled(False)
