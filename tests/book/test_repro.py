"""The reproducibility stamp that ends every notebook."""

import json
import platform

import torch

import overparam_lib
from overparam_lib.configs.double_descent import DeepDoubleDescentConfig
from overparam_lib.book.repro import RUN_RECORD_ENV_VAR, format_stamp, repro_stamp


def test_stamp_names_versions_device_profile_seed_and_time(monkeypatch, tmp_path):
    record = tmp_path / "stamp.json"
    monkeypatch.setenv(RUN_RECORD_ENV_VAR, str(record))
    stamp = repro_stamp(DeepDoubleDescentConfig(profile="full", seed=3, device="cpu"))
    assert stamp["versions"] == (
        f"overparam-lib {overparam_lib.__version__}, torch {torch.__version__}, Python {platform.python_version()}"
    )
    assert (stamp["device"], stamp["profile"], stamp["seed"]) == ("cpu", "full", "3")
    assert float(stamp["wall_time"].removesuffix(" s")) >= 0
    assert json.loads(record.read_text()) == stamp  # what `overparam run` reads back
    lines = format_stamp(stamp).splitlines()
    assert len(lines) == 5 and lines[1].split() == ["device:", "cpu"] and lines[4].startswith("wall time:")


def test_stamp_writes_no_file_unless_the_runner_asks(monkeypatch, tmp_path):
    monkeypatch.delenv(RUN_RECORD_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    repro_stamp(DeepDoubleDescentConfig())
    assert not list(tmp_path.iterdir())


def test_wall_time_runs_from_the_validation_cell():
    import time

    from overparam_lib.configs import configure
    from overparam_lib.configs.double_descent import RidgelessConfig

    time.sleep(0.3)  # as if the kernel had run a notebook before
    config = configure(RidgelessConfig, {})
    assert repro_stamp(config)["wall_time"] in ("0.0 s", "0.1 s")
