"""Device resolution and seeding."""

import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.device import DEVICE_ENV_VAR, generator, resolve_device, set_seed


@pytest.fixture
def no_accelerator(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.delenv(DEVICE_ENV_VAR, raising=False)


def test_auto_is_cpu_without_accelerator(no_accelerator):
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device(None) == torch.device("cpu")


def test_auto_prefers_cuda(monkeypatch, no_accelerator):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda")


def test_env_var_overrides_auto(monkeypatch, no_accelerator):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv(DEVICE_ENV_VAR, "cpu")
    assert resolve_device("auto") == torch.device("cpu")


def test_explicit_device_beats_env_var(monkeypatch, no_accelerator):
    monkeypatch.setenv(DEVICE_ENV_VAR, "mps")
    assert resolve_device("cpu") == torch.device("cpu")


def test_cuda_where_there_is_none_is_a_clear_error(no_accelerator):
    with pytest.raises(ParameterError, match=r"device = 'cuda' is not allowed: .*cuda is not available") as err:
        resolve_device("cuda")
    assert err.value.name == "device" and err.value.value == "cuda"


def test_env_var_naming_missing_device_names_the_variable(monkeypatch, no_accelerator):
    monkeypatch.setenv(DEVICE_ENV_VAR, "cuda")
    with pytest.raises(ParameterError, match=rf"{DEVICE_ENV_VAR} = 'cuda' is not allowed"):
        resolve_device("auto")


def test_unknown_device_lists_choices(no_accelerator):
    with pytest.raises(ParameterError, match=r"device = 'tpu' is not allowed: expected one of auto, cpu, cuda, mps"):
        resolve_device("tpu")


def test_set_seed_reproduces_torch_and_numpy():
    import numpy as np

    set_seed(3)
    a = (torch.randn(4), np.random.rand(4))
    set_seed(3)
    b = (torch.randn(4), np.random.rand(4))
    assert torch.equal(a[0], b[0]) and (a[1] == b[1]).all()
    with pytest.raises(ParameterError, match="seed = -1"):
        set_seed(-1)


def test_generator_is_seeded_and_on_cpu():
    assert torch.equal(torch.randn(5, generator=generator(7)), torch.randn(5, generator=generator(7)))
    assert generator(7).device == torch.device("cpu")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cuda_resolves_and_tensors_move():
    device = resolve_device("cuda")
    assert torch.ones(2, device=device).device.type == "cuda"
