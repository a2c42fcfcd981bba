"""Unlearning: the metrics by hand on a tiny case, the batched methods against one model alone, the tuning rule."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from overparam_lib import ParameterError
from overparam_lib.models import MLPBatch
from overparam_lib.unlearning import (copy_models, prediction_change, random_wrong_labels, tuned_models, tuned_step,
                                      unlearn)


def tiny_data(n=40, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_tuned_step_by_hand():
    forget = np.array([[0.0, 0.0], [0.2, 0.1], [0.4, 0.3], [0.6, 0.3]])  # (T, M)
    validation = np.array([[0.4, 0.3], [0.4, 0.3], [0.45, 0.3], [0.7, 0.3]])
    # model 0: scores |f - v| + max(v - v0, 0) = 0.4, 0.2, 0.05 + 0.05, 0.1 + 0.3 -> row 2
    # model 1: 0.3, 0.2, 0.0, 0.0 -> row 2 (the earliest of the ties)
    assert tuned_step(forget, validation).tolist() == [2, 2]


def test_random_wrong_labels_are_never_the_true_label_and_cover_the_others():
    y = torch.zeros(3000, dtype=torch.long)
    wrong = random_wrong_labels(y, 4, seed=0)
    assert (wrong != y).all() and set(wrong.tolist()) == {1, 2, 3}
    assert np.bincount(wrong.numpy())[1:].min() > 900  # about 1000 each


def test_prediction_change_by_hand():
    X, _ = tiny_data()
    a = MLPBatch(5, [3, 6], 3, seeds=0)
    assert (prediction_change(a, copy_models(a), X, 0.1, 5) == 0).all()
    b = copy_models(a)
    with torch.no_grad():  # model 1's last-layer bias makes class 2 win everywhere; model 0 is untouched
        bucket, g = b.position[1]
        b.biases[bucket * 3 + 2][g, 2, 0] += 1e6
    z = torch.randn(5, *X.shape, generator=torch.Generator().manual_seed(0))
    points = (X + 0.1 * z).reshape(-1, 5)
    expected = (a(points).argmax(-1)[a.order.index(1)] != 2).double().mean().item()
    changed = prediction_change(a, b, X, 0.1, 5, seed=0)
    assert changed[0] == 0 and changed[1] == pytest.approx(expected)


@pytest.mark.parametrize("method", ["fine_tune", "gradient_ascent", "random_labels"])
def test_each_model_of_the_batch_unlearns_as_it_would_alone(method):
    X, y = tiny_data()
    X = X.double()
    models = MLPBatch(5, [3, 8], 3, seeds=[0, 1], dtype=torch.float64)
    steps, lr = 6, 1e-2
    run = unlearn(models, method, X[8:], y[8:], X[:8], y[:8], steps=steps, lr=lr, eval_every=3,
                  evaluation_sets={"forget": (X[:8], y[:8])}, batch_size=16, seed=0)
    assert run["step"].tolist() == [0, 3, 6] and run["forget_error"].shape == (3, 2)
    y_random = random_wrong_labels(y[:8], 3, 0)
    for m in range(2):
        alone = MLPBatch(5, [models.widths[m]], 3, seeds=[models.seeds[m]], dtype=torch.float64)
        opt = torch.optim.Adam([alone.flat], lr=lr)
        g = torch.Generator().manual_seed(0)
        batches = [i for _ in range(3) for i in torch.randperm(32, generator=g).split(16)][:steps]  # 2 batches an epoch
        for idx in batches:
            ce = lambda X_, y_: F.cross_entropy(alone(X_)[0], y_)
            loss = {"fine_tune": lambda: ce(X[8:][idx], y[8:][idx]), "gradient_ascent": lambda: -ce(X[:8], y[:8]),
                    "random_labels": lambda: ce(X[8:][idx], y[8:][idx]) + ce(X[:8], y_random)}[method]()
            alone.zero_grad_()
            loss.backward()
            opt.step()
        final = tuned_models(models, run["weights"], np.array([2, 2]))
        torch.testing.assert_close(final(X)[models.order.index(m)][:, :], alone(X)[0], rtol=1e-9, atol=1e-9)


def test_tuned_models_take_each_models_own_row():
    models = MLPBatch(5, [3, 6], 3, seeds=0)
    weights = np.stack([np.zeros(models.flat.numel(), np.float32), np.ones(models.flat.numel(), np.float32)])
    picked = tuned_models(models, weights, np.array([0, 1])).flat.detach().numpy()
    owner = np.asarray(models.order)[models.owner.numpy()]
    assert (picked[owner == 0] == 0).all() and (picked[owner == 1] == 1).all()


def test_bad_arguments_are_named():
    X, y = tiny_data()
    models = MLPBatch(5, [3], 3)
    with pytest.raises(ParameterError, match="method = 'forget' is not allowed"):
        unlearn(models, "forget", X, y, X, y, steps=4, lr=0.1, eval_every=2, evaluation_sets={})
    with pytest.raises(ParameterError, match="eval_every = 3 is not allowed: expected a divisor of steps = 4"):
        unlearn(models, "fine_tune", X, y, X, y, steps=4, lr=0.1, eval_every=3, evaluation_sets={})
