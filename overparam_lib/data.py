"""Data generators: Gaussian linear model, MNIST-1D (generated offline), clusterable data, label noise.

Everything is generated from a seed on the CPU, then moved to the requested device,
so the same seed gives the same data on every device. Nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from overparam_lib.device import generator, resolve_device
from overparam_lib.errors import ParameterError, check_int, check_real


@dataclass(frozen=True)
class LinearData:
    """A draw from the Gaussian linear model; shapes in the field comments."""

    X: torch.Tensor  # (n, p) features, i.i.d. N(0, 1)
    y: torch.Tensor  # (n,) responses X @ beta + noise
    beta: torch.Tensor  # (p,) true coefficients, ||beta||^2 = signal


def gaussian_linear(
    n_train: int,
    p: int,
    signal: float = 1.0,
    noise: float = 1.0,
    seed: int = 0,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float64,
) -> LinearData:
    """Draw ``(X, y, beta)`` from the isotropic Gaussian linear model.

    ``x ~ N(0, I_p)``, ``y = x^T beta + eps`` with ``eps ~ N(0, noise)`` and ``beta``
    uniform on the sphere of squared radius ``signal`` (the setting of
    {cite}`HastieSurprises2020`, Section 3: ``r^2 = signal``, ``sigma^2 = noise``).

    Args:
        n_train: number of samples n > 0.
        p: number of features p > 0.
        signal: r^2 = ||beta||^2 >= 0.
        noise: sigma^2 = Var(eps) >= 0.
        seed: seed of the CPU generator the draw comes from.
        device: where the returned tensors live.
        dtype: floating dtype of the returned tensors.

    Returns:
        A :class:`LinearData` with ``X`` (n, p), ``y`` (n,), ``beta`` (p,).
    """
    n_train, p = check_int("n_train", n_train), check_int("p", p)
    signal, noise = check_real("signal", signal), check_real("noise", noise)
    g = generator(seed)
    X = torch.randn(n_train, p, generator=g, dtype=dtype)  # (n, p)
    direction = torch.randn(p, generator=g, dtype=dtype)
    beta = direction / direction.norm() * signal**0.5  # (p,)
    eps = torch.randn(n_train, generator=g, dtype=dtype) * noise**0.5  # (n,)
    y = X @ beta + eps
    return LinearData(X.to(device), y.to(device), beta.to(device))


MNIST1D_TRAIN = 4000  # examples in the MNIST-1D authors' training split (their test split: 1000)


def mnist1d(num_samples: int = 5000, train_split: float = 0.8, seed: int = 42) -> dict[str, np.ndarray]:
    """Generate MNIST-1D offline with ``mnist1d.data.make_dataset`` {cite}`GreydanusScaling2024`.

    The templates ship inside the ``mnist1d`` package; the dataset is built from them
    with the authors' default transformation arguments, so nothing is downloaded.
    With the defaults this reproduces the authors' published 4000/1000 split.

    Args:
        num_samples: total examples (train + test), a positive multiple of 10.
        train_split: fraction used for training, in (0, 1).
        seed: seed of the generator (the authors' default is 42).

    Returns:
        Dict with ``x`` (n_train, 40) float32, ``y`` (n_train,) int64 and the same for
        ``x_test``, ``y_test``.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    num_samples = check_int("num_samples", num_samples)
    if num_samples % 10:
        raise ParameterError("num_samples", num_samples, "a positive multiple of 10 (10 classes)")
    if not 0 < train_split < 1:
        raise ParameterError("train_split", train_split, "a fraction strictly between 0 and 1")
    args = get_dataset_args()
    args.num_samples, args.train_split, args.seed = num_samples, train_split, seed
    state = np.random.get_state()  # make_dataset reseeds NumPy's global generator
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(state)
    return {
        "x": data["x"].astype(np.float32),
        "y": data["y"].astype(np.int64),
        "x_test": data["x_test"].astype(np.float32),
        "y_test": data["y_test"].astype(np.int64),
    }


def corrupt_labels(y: torch.Tensor, fraction: float, num_classes: int, seed: int = 0) -> torch.Tensor:
    """Return a copy of ``y`` in which a ``fraction`` of labels is replaced by a wrong class.

    Exactly ``round(fraction * len(y))`` examples, chosen uniformly without
    replacement, get a label drawn uniformly from the *other* ``num_classes - 1``
    classes, as in the label-noise experiments of {cite}`NakkiranDeep2019`.

    Args:
        y: (n,) integer labels in ``[0, num_classes)``.
        fraction: share of labels to corrupt, in [0, 1].
        num_classes: number of classes, >= 2.
        seed: seed of the CPU generator that picks examples and new labels.

    Returns:
        (n,) labels on ``y``'s device.
    """
    if not 0 <= fraction <= 1:
        raise ParameterError("fraction", fraction, "a fraction in [0, 1]")
    check_int("num_classes", num_classes, minimum=2)
    if y.numel() and (y.min() < 0 or y.max() >= num_classes):
        raise ParameterError("y", f"labels in [{int(y.min())}, {int(y.max())}]", f"labels in [0, {num_classes})")
    g = generator(seed)
    n = y.shape[0]
    chosen = torch.randperm(n, generator=g)[: round(fraction * n)]
    shift = torch.randint(1, num_classes, (chosen.numel(),), generator=g)  # never 0: always a wrong class
    y_noisy = y.detach().cpu().clone()
    y_noisy[chosen] = (y_noisy[chosen] + shift) % num_classes
    return y_noisy.to(y.device)


def randomize_labels(y: torch.Tensor, fraction: float, num_classes: int, seed: int = 0) -> torch.Tensor:
    """Zhang et al.'s partially corrupted labels: each label, with probability ``fraction``,
    is replaced by a class drawn uniformly from all ``num_classes`` {cite}`ZhangUnderstanding2017`.

    Unlike :func:`corrupt_labels`, the new class may be the true one, so ``fraction=1``
    gives labels independent of the inputs (about ``1/num_classes`` of them still right),
    not labels chosen to be wrong, which would carry information about the inputs.

    Args:
        y: (n,) integer labels in ``[0, num_classes)``.
        fraction: the probability of replacing a label, in [0, 1].
        num_classes: classes, >= 2.
        seed: seed of the CPU generator.

    Returns:
        (n,) labels on ``y``'s device.
    """
    if not 0 <= fraction <= 1:
        raise ParameterError("fraction", fraction, "a probability in [0, 1]")
    check_int("num_classes", num_classes, minimum=2)
    g = generator(seed)
    n = y.shape[0]
    replaced = torch.rand(n, generator=g) < fraction
    random = torch.randint(0, num_classes, (n,), generator=g)
    return torch.where(replaced, random, y.detach().cpu()).to(y.device)


def clusterable(
    num_clusters: int, per_cluster: int, dim: int, radius: float, num_classes: int = 2, seed: int = 0,
    device: str | torch.device = "auto",
) -> dict[str, torch.Tensor]:
    """Clusterable data {cite}`LiGradient2020`: points within ``radius`` of K unit-norm centres, one label per cluster.

    Centres are drawn uniformly on the unit sphere of ``R^dim``; each point is its centre
    plus a vector drawn uniformly from the ball of radius ``radius``. Cluster ``l`` gets
    class ``l mod num_classes`` after a random shuffle of the clusters, so every class
    has clusters when ``num_clusters >= num_classes``.

    Args:
        num_clusters: K, clusters.
        per_cluster: points per cluster.
        dim: d, input dimension.
        radius: epsilon, the clusters' radius (>= 0).
        num_classes: classes (2: labels 0 and 1).
        seed: seed of the CPU generator.
        device: where the tensors go (see :func:`~overparam_lib.device.resolve_device`).

    Returns:
        Dict: ``X`` (n, d) float32, ``y`` (n,) int64 classes, ``cluster`` (n,) int64,
        ``centers`` (K, d), with ``n = K * per_cluster``, ordered cluster by cluster.
    """
    check_int("num_clusters", num_clusters)
    check_int("per_cluster", per_cluster)
    check_int("dim", dim)
    check_real("radius", radius)
    check_int("num_classes", num_classes, minimum=2)
    if num_clusters < num_classes:
        raise ParameterError("num_clusters", num_clusters, f"at least num_classes = {num_classes}")
    device = resolve_device(device)
    g = generator(seed)
    centers = torch.randn(num_clusters, dim, generator=g, dtype=torch.float64)
    centers /= centers.norm(dim=1, keepdim=True)
    direction = torch.randn(num_clusters, per_cluster, dim, generator=g, dtype=torch.float64)
    direction /= direction.norm(dim=-1, keepdim=True)
    length = radius * torch.rand(num_clusters, per_cluster, 1, generator=g, dtype=torch.float64) ** (1 / dim)
    X = (centers[:, None, :] + length * direction).reshape(-1, dim)
    cluster_class = torch.randperm(num_clusters, generator=g) % num_classes
    cluster = torch.arange(num_clusters).repeat_interleave(per_cluster)
    return {"X": X.float().to(device), "y": cluster_class[cluster].to(device), "cluster": cluster.to(device),
            "centers": centers.float().to(device)}


def mnist1d_tensors(
    n_train: int = 4000, device: str | torch.device = "auto", num_test: int = 1000
) -> tuple[torch.Tensor, ...]:
    """``n_train`` MNIST-1D training examples and ``num_test`` test examples, as tensors.

    With ``num_test=1000`` these are the first ``n_train`` of the authors' published 4000/1000
    split. A larger test set is generated with the same templates and transformations as
    ``4000 + num_test`` examples split after the first 4000 (``num_test=12000`` is the
    16,000-example, 0.25 split of the MNIST-1D authors' deep double descent notebook
    {cite}`GreydanusScaling2024`); its 4000 training examples are then other draws from the
    same distribution.

    Returns:
        ``X`` (n_train, 40) float32, ``y`` (n_train,) int64, ``X_test`` (num_test, 40),
        ``y_test`` (num_test,), on ``device`` (see :func:`~overparam_lib.device.resolve_device`).
    """
    n_train = check_int("n_train", n_train)
    num_test = check_int("num_test", num_test)
    if num_test % 10:
        raise ParameterError("num_test", num_test, "a positive multiple of 10 (10 classes)")
    if n_train > MNIST1D_TRAIN:
        raise ParameterError("n_train", n_train, f"at most {MNIST1D_TRAIN} (MNIST-1D's training split)")
    total = MNIST1D_TRAIN + num_test
    data = mnist1d(total, (MNIST1D_TRAIN + 0.5) / total)  # make_dataset splits at int(total * split): exactly 4000
    device = resolve_device(device)
    return (
        torch.from_numpy(data["x"][:n_train]).to(device),
        torch.from_numpy(data["y"][:n_train]).to(device),
        torch.from_numpy(data["x_test"]).to(device),
        torch.from_numpy(data["y_test"]).to(device),
    )


def unit_sphere(num_points: int, dim: int, seed: int = 0, device=None) -> torch.Tensor:
    """``num_points`` points drawn uniformly on the unit sphere in ``dim`` dimensions: (num_points, dim), float64."""
    check_int("num_points", num_points)
    check_int("dim", dim, minimum=2)
    Z = torch.randn(num_points, dim, generator=generator(seed), dtype=torch.float64)
    return (Z / Z.norm(dim=1, keepdim=True)).to(resolve_device(device) if device is not None else "cpu")


def relu_teacher(X: torch.Tensor, directions: torch.Tensor, signs: torch.Tensor) -> torch.Tensor:
    """``y = sum_j s_j relu(sqrt(d) u_j . x)``: a few ReLU neurons with unit directions ``u_j`` (k, d) and output signs (k,).

    For x on the unit sphere ``sqrt(d) u . x`` has variance 1, so y is O(1) at every d.
    """
    return torch.relu(X.shape[1] ** 0.5 * X @ directions.T) @ signs
