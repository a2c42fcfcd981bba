"""The batched sweep engine against the plain one-model-at-a-time loop (torch.optim)."""

import contextlib

import numpy as np
import pytest
import torch

from overparam_lib import ParameterError
from overparam_lib.models import MLPBatch
from overparam_lib import train as train_module
from overparam_lib.train import _StepRunner, batch_indices, train, train_sequential

# float64 makes summation order the only difference between the two: trajectories agree
# to ~1e-15; 1e-9 leaves room for growth over the steps and still catches any real bug.
TOL = 1e-9
N, D, C = 120, 12, 4


def problem(num_models: int, seed: int = 0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(N, D, generator=g, dtype=torch.float64)
    X_test = torch.randn(50, D, generator=g, dtype=torch.float64)
    y = torch.randint(0, C, (num_models, N), generator=g)
    y_test = torch.randint(0, C, (50,), generator=g)
    return X.to(device), y.to(device), X_test.to(device), y_test.to(device)


def assert_same_as_sequential(widths, seeds, weight_decay, depth=2, device="cpu", tol=TOL, bucket_overhead=50_000.0, **kwargs):
    X, y, X_test, y_test = problem(len(widths), device=device)
    model = MLPBatch(D, widths, C, depth=depth, seeds=seeds, device=device, dtype=torch.float64, bucket_overhead=bucket_overhead)
    nets = [model.to_sequential(m) for m in range(len(widths))]  # same initial weights, trained alone
    history = train(model, X, y, X_test, y_test, weight_decay=weight_decay, progress=False, **kwargs)
    for m, net in enumerate(nets):
        decay = weight_decay[m] if isinstance(weight_decay, list) else weight_decay
        reference = train_sequential(net, X, y[m], X_test, y_test, weight_decay=decay, **kwargs)
        for key in ("train_loss", "test_loss", "train_error", "test_error"):
            np.testing.assert_allclose(history[key][:, m], reference[key][:, 0], rtol=tol, atol=tol, err_msg=f"model {m} {key}")
        assert history["stop_step"][m] == reference["stop_step"][0]
        trained = [p for layer in net if isinstance(layer, torch.nn.Linear) for p in (layer.weight, layer.bias)]
        for ours, theirs in zip([t for layer in model.layers_of(m) for t in layer], trained):
            torch.testing.assert_close(ours, theirs.detach(), rtol=tol, atol=tol)
    return history


@pytest.mark.parametrize(
    "optimizer, lr, momentum, batch_size",
    [("sgd", 0.1, 0.0, None), ("sgd", 0.05, 0.9, 32), ("adam", 0.01, 0.0, 25)],
)
def test_each_model_trains_exactly_as_it_would_alone(optimizer, lr, momentum, batch_size):
    widths = [3, 17, 5, 8, 17, 1]  # unsorted, repeated, and a width-1 model
    assert_same_as_sequential(widths, seeds=[4, 1, 2, 3, 9, 5], weight_decay=[0.0, 1e-3, 0.0, 0.05, 0.0, 0.01],
                              optimizer=optimizer, lr=lr, momentum=momentum, batch_size=batch_size,
                              steps=40, record_steps=[1, 7, 20])


def test_depth_one_and_three_and_shared_weight_decay():
    for depth in (1, 3):
        assert_same_as_sequential([2, 9, 6], seeds=0, weight_decay=1e-2, depth=depth,
                                  optimizer="adam", lr=0.02, batch_size=30, steps=25)


def test_models_stop_at_zero_training_error_like_the_loop_does():
    # random labels on 120 points: wide models memorize them within the budget, narrow ones cannot;
    # 400 Adam steps amplify rounding differences (fused vs plain update) to ~1e-7, hence 1e-6
    history = assert_same_as_sequential([2, 64, 3, 96], seeds=0, weight_decay=0.0, optimizer="adam", lr=0.03, tol=1e-6,
                                        batch_size=None, steps=400, record_steps=range(0, 401, 20), stop_at_zero_error=True)
    stopped = history["stop_step"] < 400
    assert stopped.tolist() == [False, True, False, True]
    assert (history["train_error"][-1][stopped] == 0).all() and (history["train_error"][-1][~stopped] > 0).all()


def test_training_error_splits_into_clean_and_corrupted_labels():
    # reference: predictions of each model after training, counted by hand on each subset
    X, y, X_test, y_test = problem(4)
    y_clean = y[0].clone()
    y[1, :30] = (y_clean[:30] + 1) % C  # model 1: 30 corrupted labels; model 0: none
    y[2:] = y[1]
    model = MLPBatch(D, [3, 40, 5, 60], C, seeds=0, dtype=torch.float64)
    history = train(model, X, y, X_test, y_test, steps=200, optimizer="adam", lr=0.03, batch_size=None,
                    progress=False, y_clean=y_clean)
    with torch.no_grad():
        logits = torch.cat([model.to_sequential(m)(X)[None] for m in range(4)])  # (M, n, C)
    wrong = (logits.argmax(-1) != y).numpy()  # (M, n)
    corrupted = (y != y_clean).numpy()
    for m in range(4):
        assert history["train_error"][-1, m] == pytest.approx(wrong[m].mean(), abs=1e-6)
        assert history["train_error_clean"][-1, m] == pytest.approx(wrong[m][~corrupted[m]].mean(), abs=1e-6)
        if corrupted[m].any():
            assert history["train_error_corrupted"][-1, m] == pytest.approx(wrong[m][corrupted[m]].mean(), abs=1e-6)
        else:
            assert np.isnan(history["train_error_corrupted"][-1, m])
    reference = train_sequential(model.to_sequential(1), X, y[1], X_test, y_test, steps=1, y_clean=y_clean)
    assert set(reference) == set(history)  # the plain loop records the same metrics
    assert "train_error_clean" not in train(model, X, y, X_test, y_test, steps=1, progress=False)


def test_batch_indices_are_epochs_of_permutations():
    batches = list(batch_indices(10, 4, 6, seed=3))
    assert [len(b) for b in batches] == [4, 4, 2, 4, 4, 2]
    assert sorted(torch.cat(batches[:3]).tolist()) == list(range(10))
    assert all(b is None for b in batch_indices(10, None, 3))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps = 0 is not allowed: expected a positive integer"),
        ({"optimizer": "lbfgs"}, "optimizer = 'lbfgs' is not allowed: expected one of 'sgd', 'adam'"),
        ({"lr": -1.0}, "lr = -1.0 is not allowed: expected a number > 0"),
        ({"momentum": 1.0}, "momentum = 1.0 is not allowed"),
        ({"record_steps": [50]}, "record_steps = [50] is not allowed: expected steps in [0, steps = 10]"),
        ({"weight_decay": -0.1}, "weight_decay = [-0.1, -0.1] is not allowed: expected values >= 0"),
    ],
)
def test_bad_training_arguments_name_the_parameter(kwargs, message):
    X, y, X_test, y_test = problem(2)
    model = MLPBatch(D, [3, 4], C, dtype=torch.float64)
    with pytest.raises(ParameterError, match=message.replace("[", r"\[").replace("(", r"\(")):
        train(model, X, y, X_test, y_test, **{"steps": 10, **kwargs})


def test_step_runner_reads_each_batch_size_from_its_own_buffer():
    # a CUDA graph replays the step on the tensors it was captured with: every call with a
    # batch size must see the same buffer, holding that call's indices
    seen = []
    runner = _StepRunner(lambda idx: seen.append((idx, None if idx is None else idx.tolist())), torch.device("cpu"))
    for idx in [torch.tensor([3, 1, 4]), torch.tensor([0, 2, 5]), torch.tensor([7]), torch.tensor([6, 8, 9]), None]:
        runner(idx)
    assert [values for _, values in seen] == [[3, 1, 4], [0, 2, 5], [7], [6, 8, 9], None]
    buffers = [buffer for buffer, _ in seen]
    assert buffers[0] is buffers[1] is buffers[3] and buffers[2] is not buffers[0] and buffers[4] is None


def test_a_failed_capture_warns_once_and_trains_on_eagerly(monkeypatch):
    # the runner takes the CUDA path (warm-up, then capture) on the CPU; torch.cuda.graph raises as
    # an op that cannot be captured would: one warning naming the cause, then the eager path's results
    runners = []

    class CapturingRunner(train_module._StepRunner):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            self.capture = True
            runners.append(self)

    def failing_capture(graph):
        raise RuntimeError("operation not permitted when stream is capturing")

    X, y, X_test, y_test = problem(3)
    kwargs = dict(steps=30, optimizer="adam", lr=0.01, batch_size=32, record_steps=[10, 30], progress=False)
    make = lambda: MLPBatch(D, [3, 40, 7], C, seeds=0, dtype=torch.float64)  # noqa: E731
    eager = train(make(), X, y, X_test, y_test, **kwargs)
    monkeypatch.setattr(train_module, "_StepRunner", CapturingRunner)
    monkeypatch.setattr(torch.cuda, "device", lambda device: contextlib.nullcontext())
    monkeypatch.setattr(train_module._StepRunner, "_side_stream", lambda self: contextlib.nullcontext())
    monkeypatch.setattr(torch.cuda, "CUDAGraph", object)
    monkeypatch.setattr(torch.cuda, "graph", failing_capture)
    with pytest.warns(RuntimeWarning) as caught:
        fallen_back = train(make(), X, y, X_test, y_test, **kwargs)
    messages = [str(w.message) for w in caught if "CUDA graph" in str(w.message)]
    assert messages == ["CUDA graph capture or replay failed (RuntimeError: operation not permitted when stream "
                        "is capturing); training goes on with eager CUDA steps"]
    # 120 = 3 * 32 + 24: three warm-ups at 32, one at 24, then the capture at 32 fails (step 5)
    assert not runners[0].capture and runners[0].replays == 0 and runners[0].calls == {32: 3, 24: 1}
    for key in ("train_loss", "test_loss", "train_error", "test_error"):
        np.testing.assert_array_equal(fallen_back[key], eager[key])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize(
    "kwargs",
    [  # minibatches of two sizes (120 = 3 * 32 + 24): two graphs, each captured after 3 eager steps
        dict(widths=[3, 40, 7], weight_decay=[0.0, 0.01, 0.0], tol=1e-7, optimizer="adam", lr=0.01, batch_size=32, steps=30),
        dict(widths=[3, 40, 7], weight_decay=[0.0, 0.01, 0.0], tol=1e-7, optimizer="sgd", lr=0.05, momentum=0.9,
             batch_size=32, steps=30),
        # one bucket: models freeze while others in their bucket train on, and the step is captured again
        # (400 Adam steps: 1e-6 as in the CPU test of freezing)
        dict(widths=[2, 64, 3, 96], weight_decay=0.0, tol=1e-6, bucket_overhead=1e9, optimizer="adam", lr=0.03,
             batch_size=None, steps=400, record_steps=range(0, 401, 20), stop_at_zero_error=True),
    ],
)
def test_engine_on_cuda_matches_the_loop(kwargs, monkeypatch):
    runners = []

    class CountedRunner(train_module._StepRunner):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            runners.append(self)

    monkeypatch.setattr(train_module, "_StepRunner", CountedRunner)
    history = assert_same_as_sequential(seeds=0, device="cuda", **kwargs)
    assert sum(runner.replays for runner in runners) > 0  # the steps really ran as CUDA graphs
    if kwargs.get("stop_at_zero_error"):
        assert (history["stop_step"] < 400).tolist() == [False, True, False, True]
