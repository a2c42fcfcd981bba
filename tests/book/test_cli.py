"""The ``overparam`` command: bad arguments are refused with a message, before anything runs."""

from overparam_lib.book.cli import main


def test_cli_reports_bad_arguments_without_running(book, monkeypatch, capsys):
    monkeypatch.chdir(book)
    assert main(["run", "nope"]) == 2
    assert "target = 'nope' is not allowed" in capsys.readouterr().err
    assert main(["run", "all", "--profile", "huge"]) == 2
    assert "profile = 'huge' is not allowed: expected one of 'ci', 'full'" in capsys.readouterr().err
    assert not (book / "_build").exists()
    assert main(["status"]) == 0 and "No runs yet" in capsys.readouterr().out


def test_cli_refuses_a_seed_parameter(capsys):
    assert main(["robustness", "ridgeless_least_squares", "-p", "seed", "3"]) == 2
    assert "-p seed = 3 is not allowed: expected no -p seed: use --seeds" in capsys.readouterr().err
