"""The sweep cache: keys, integrity checks, no unpickling, and a sweep killed and resumed."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from overparam_lib import ParameterError, sweeps
from overparam_lib.cache import (
    CACHE_ENV_VAR,
    SweepCache,
    cache_dir,
    cache_key,
    source_digest,
    tensor_digest,
)
from overparam_lib.configs.double_descent import DeepDoubleDescentConfig
from overparam_lib.progress import PROGRESS_ENV_VAR
from overparam_lib.sweeps import run_width_sweep

REPO = Path(__file__).resolve().parents[1]
METRICS = ("train_error", "test_error", "train_loss", "test_loss", "train_error_clean", "train_error_corrupted")

def tiny_sweep(steps: int):
    """A tiny sweep on synthetic float64 data: 2 noise levels x 2 seeds = 4 points of widths 2, 4, 8."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 10, generator=g, dtype=torch.float64)  # (n, d)
    y = torch.randint(0, 10, (200,), generator=g)
    X_test = torch.randn(100, 10, generator=g, dtype=torch.float64)
    y_test = torch.randint(0, 10, (100,), generator=g)
    config = DeepDoubleDescentConfig(n_train=200, widths=(2, 4, 8), noise=(0.0, 0.2),
                                     num_seeds=2, steps=steps, batch_size=50, num_records=5, seed=3, device="cpu")
    return config, X, y, X_test, y_test


def assert_same_sweep(a, b, tol=0.0):
    for k in ("widths", "noise", "num_parameters", "steps"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)
    for k in METRICS:
        np.testing.assert_allclose(getattr(a, k), getattr(b, k), rtol=tol, atol=tol, err_msg=k, equal_nan=True)


def entry_arrays():
    return {"step": np.arange(5), "train_error": np.linspace(0, 1, 15).reshape(5, 3),
            "test_loss": np.ones((5, 3), np.float32), "num_parameters": np.array([1, 2, 3])}


def test_round_trip_returns_the_saved_arrays_and_counts_hits(tmp_path):
    cache, arrays, params = SweepCache(tmp_path / "sub"), entry_arrays(), {"noise": 0.1, "widths": [2, 4]}
    assert cache.load("k") is None and (cache.hits, cache.misses) == (0, 1)
    cache.save("k", arrays, params)
    loaded = cache.load("k")
    assert (cache.hits, cache.misses) == (1, 1) and sorted(loaded) == sorted(arrays)
    for name, a in arrays.items():
        assert loaded[name].dtype == a.dtype
        np.testing.assert_array_equal(loaded[name], a)
    manifest = json.loads((tmp_path / "sub" / "k.json").read_text())
    assert manifest["params"] == params and len(manifest["sha256"]) == 64 and "version" in manifest
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["k.json", "k.npz"]  # no temporary files left


def test_key_changes_with_parameters_data_source_and_device(tmp_path):
    X = torch.arange(12.0).reshape(3, 4)
    data = tensor_digest(X, torch.tensor([0, 1, 2]))
    params = {"noise": 0.1, "seed": 0, "widths": [2, 4]}
    key = cache_key(params, data, "cpu", torch.float32)
    assert key == cache_key(dict(reversed(params.items())), data, "cpu", torch.float32)  # order of fields is irrelevant
    changed = [
        cache_key({**params, "noise": 0.2}, data, "cpu", torch.float32),
        cache_key({**params, "seed": 1}, data, "cpu", torch.float32),
        cache_key({**params, "widths": [2, 5]}, data, "cpu", torch.float32),
        cache_key(params, tensor_digest(X + 1e-6, torch.tensor([0, 1, 2])), "cpu", torch.float32),
        cache_key(params, tensor_digest(X.reshape(4, 3), torch.tensor([0, 1, 2])), "cpu", torch.float32),  # same bytes
        cache_key(params, tensor_digest(X.double(), torch.tensor([0, 1, 2])), "cpu", torch.float32),
        cache_key(params, data, "cuda", torch.float32),
        cache_key(params, data, "cpu", torch.float64),
        cache_key(params, data, "cpu", torch.float32, source="0" * 64),
    ]
    assert len({key, *changed}) == 1 + len(changed)
    # editing any source file of the library, in a subpackage too, changes its digest
    package = Path(sweeps.__file__).parent
    copy = tmp_path / "copy"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert source_digest(copy) == source_digest(package)
    for edited in ("sweeps.py", "theory/double_descent.py"):
        shutil.copytree(package, tmp_path / edited, ignore=shutil.ignore_patterns("__pycache__"))
        with open(tmp_path / edited / edited, "a") as f:
            f.write("# an edit\n")
        assert source_digest(tmp_path / edited) != source_digest(package)


@pytest.mark.parametrize("damage", ["flip bytes", "truncate"])
def test_damaged_entry_is_reported_removed_and_recomputed(tmp_path, damage):
    config, X, y, X_test, y_test = tiny_sweep(steps=20)
    first = run_width_sweep(config, X, y, X_test, y_test, progress=False, cache=SweepCache(tmp_path), models_per_run=3)
    npz = sorted(tmp_path.glob("*.npz"))[1]
    data = bytearray(npz.read_bytes())
    if damage == "flip bytes":
        data[len(data) // 2 : len(data) // 2 + 8] = bytes(b ^ 0xFF for b in data[len(data) // 2 : len(data) // 2 + 8])
    else:
        data = data[: len(data) // 2]
    npz.write_bytes(bytes(data))
    cache = SweepCache(tmp_path)
    with pytest.warns(UserWarning, match=f"damaged sweep cache entry .*{npz.name}"):
        again = run_width_sweep(config, X, y, X_test, y_test, progress=False, cache=cache, models_per_run=3)
    assert (cache.hits, cache.misses) == (3, 1)  # the damaged point was recomputed, not used
    assert_same_sweep(again, first)  # one point per run both times: the same computation
    check = SweepCache(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert check.load(npz.stem) is not None  # rewritten, valid


def test_damaged_manifest_is_reported_and_removed(tmp_path):
    cache = SweepCache(tmp_path)
    cache.save("k", entry_arrays(), {})
    (tmp_path / "k.json").write_text('{"sha256": ')  # cut short
    with pytest.warns(UserWarning, match="k.npz"):
        assert cache.load("k") is None
    assert list(tmp_path.iterdir()) == [] and cache.misses == 1


def test_npz_without_manifest_counts_as_missing(tmp_path):
    cache = SweepCache(tmp_path)
    cache.save("k", entry_arrays(), {})
    (tmp_path / "k.json").unlink()  # as if killed between the two writes
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not damage: just not committed
        assert cache.load("k") is None
    assert (cache.hits, cache.misses) == (0, 1)
    cache.save("k", entry_arrays(), {})  # the orphan is overwritten
    assert cache.load("k") is not None


def test_cache_dir_follows_the_env_var_and_off_disables_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(CACHE_ENV_VAR)
    assert cache_dir() == tmp_path / "home" / ".cache" / "overparam-book"
    for value in ("off", ""):
        monkeypatch.setenv(CACHE_ENV_VAR, value)
        assert cache_dir() is None
    disabled = SweepCache(None)
    disabled.save("k", entry_arrays(), {})
    assert disabled.load("k") is None and disabled.misses == 1
    # run_width_sweep's default cache comes from the env var: "off" writes nothing, a directory fills
    config, X, y, X_test, y_test = tiny_sweep(steps=5)
    monkeypatch.setenv(CACHE_ENV_VAR, "off")
    run_width_sweep(config, X, y, X_test, y_test, progress=False)
    assert not (tmp_path / "home").exists()
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "env"))
    run_width_sweep(config, X, y, X_test, y_test, progress=False)
    assert len(list((tmp_path / "env").glob("*.json"))) == 4


UNPICKLED = []


class Tripwire:
    """Records being unpickled."""

    def __reduce__(self):
        return UNPICKLED.append, ("unpickled",)


def test_loading_never_unpickles(tmp_path):
    cache = SweepCache(tmp_path)
    cache.save("k", entry_arrays(), {})
    with open(tmp_path / "k.npz", "wb") as f:  # a valid npz, but holding a pickled object array
        np.savez(f, step=np.arange(5), evil=np.array([Tripwire()], dtype=object))
    manifest = json.loads((tmp_path / "k.json").read_text())
    manifest["sha256"] = hashlib.sha256((tmp_path / "k.npz").read_bytes()).hexdigest()  # checksum passes
    (tmp_path / "k.json").write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match="k.npz"):
        assert cache.load("k") is None
    assert UNPICKLED == [] and not (tmp_path / "k.npz").exists()
    with pytest.raises(ParameterError, match="evil"):
        cache.save("k", {"evil": np.array([Tripwire()], dtype=object)}, {})


class Trained(Exception):
    """Raised by :func:`train_raises`."""


def train_raises(*args, **kwargs):
    raise Trained


def test_second_sweep_loads_every_point_without_training(tmp_path, monkeypatch):
    config, X, y, X_test, y_test = tiny_sweep(steps=20)
    first = run_width_sweep(config, X, y, X_test, y_test, progress=False, cache=SweepCache(tmp_path))
    monkeypatch.setattr(sweeps, "train", train_raises)
    cache = SweepCache(tmp_path)
    assert_same_sweep(run_width_sweep(config, X, y, X_test, y_test, progress=False, cache=cache), first)
    assert (cache.hits, cache.misses) == (4, 0)
    monkeypatch.setattr(sweeps, "train", train_raises)
    with pytest.raises(Trained):  # another learning rate: another key, nothing to load
        run_width_sweep(replace(config, lr=0.002), X, y, X_test, y_test, progress=False, cache=SweepCache(tmp_path))


def fake_train(sizes):
    """Stands in for ``train``: records how many models each run holds and returns zero metrics."""

    def train(model, X, y, X_test, y_test, steps, record_steps, **kwargs):
        sizes.append(model.num_models)
        R = len({0, steps, *record_steps})
        return {"step": np.zeros(R, int), **{k: np.zeros((R, model.num_models)) for k in METRICS}}

    return train


def test_runs_hold_whole_points_and_the_ci_sweep_is_one_run(monkeypatch):
    config, X, y, X_test, y_test = tiny_sweep(steps=5)  # 4 points of 3 widths
    for models_per_run, expected in [(2, [3, 3, 3, 3]), (7, [6, 6]), (9, [9, 3]), (128, [12])]:
        sizes = []
        monkeypatch.setattr(sweeps, "train", fake_train(sizes))
        run_width_sweep(config, X, y, X_test, y_test, cache=SweepCache(None), models_per_run=models_per_run)
        assert sizes == expected, models_per_run
    ci, sizes = DeepDoubleDescentConfig(device="cpu"), []
    monkeypatch.setattr(sweeps, "train", fake_train(sizes))
    X = torch.zeros(10, 40)  # MNIST-1D's 40 features; training is faked
    run_width_sweep(ci, X, torch.zeros(10, dtype=torch.long), X, torch.zeros(10, dtype=torch.long), cache=SweepCache(None))
    assert sizes == [len(ci.model_widths)] == [75]  # one batched run, as before caching


def test_points_trained_apart_match_one_batched_run():
    # float64: runs differ only in how models are bucketed, i.e. summation order (~1e-15)
    config, X, y, X_test, y_test = tiny_sweep(steps=100)
    together = run_width_sweep(config, X, y, X_test, y_test, progress=False, cache=SweepCache(None))
    apart = run_width_sweep(config, X, y, X_test, y_test, progress=False, cache=SweepCache(None), models_per_run=3)
    assert_same_sweep(apart, together, tol=1e-10)


def wait_for_some_manifests(proc, directory: Path, total: int, timeout: float = 120.0) -> None:
    """Poll until the subprocess has committed at least one point but not all, then kill it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = len(list(directory.glob("*.json")))
        if proc.poll() is not None or done >= total:
            break
        if done >= 1:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return
        time.sleep(0.01)
    proc.kill()
    _, stderr = proc.communicate()
    pytest.fail(f"the sweep finished ({len(list(directory.glob('*.json')))} of {total} points) or timed out before "
                f"it could be killed midway: give it more steps. stderr: {stderr.decode()[-2000:]}")


def test_sweep_killed_midway_resumes_from_its_finished_points(tmp_path):
    steps = 600  # ~0.5 s per point on one core: the kill lands between two points
    code = (  # the same sweep as tiny_sweep(steps) builds here; one point per run
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_cache import tiny_sweep\n"
        "from overparam_lib.sweeps import run_width_sweep\n"
        f"run_width_sweep(*tiny_sweep({steps}), models_per_run=3)\n"
    )
    env = {**os.environ, CACHE_ENV_VAR: str(tmp_path), PROGRESS_ENV_VAR: "0"}
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, stderr=subprocess.PIPE)
    wait_for_some_manifests(proc, tmp_path, total=4)
    finished = len(list(tmp_path.glob("*.json")))
    assert 1 <= finished < 4, f"{finished} points finished before the kill: give the sweep more steps"

    config, X, y, X_test, y_test = tiny_sweep(steps)
    cache = SweepCache(tmp_path)
    resumed = run_width_sweep(config, X, y, X_test, y_test, progress=False, cache=cache, models_per_run=3)
    assert (cache.hits, cache.misses) == (finished, 4 - finished)
    assert len(list(tmp_path.glob("*.json"))) == 4
    reference = run_width_sweep(config, X, y, X_test, y_test, progress=False, cache=SweepCache(None), models_per_run=3)
    # each point is trained alone both times, in float64: the same computation, so exact in
    # practice; 1e-12 allows only for a different BLAS path between processes
    assert_same_sweep(resumed, reference, tol=1e-12)
