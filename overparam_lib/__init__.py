"""overparam_lib: the small GPU-capable PyTorch library behind the book.

Three layers, each importing only the ones before it (``tests/test_layout.py`` checks):

1. The science, one idea per module at this level: ``errors`` and ``device`` (bad
   parameters; where to compute, seeding), ``progress`` (progress bars), ``data``
   (generators), ``linear`` and ``random_features`` (least-squares solvers),
   ``jacobian`` (Jacobians by ``torch.func``, the residual split along them),
   ``lipschitz`` (a lower bound on a network's Lipschitz constant),
   ``privacy`` (membership inference by Monte Carlo), ``models``, ``train``, ``sweeps``
   and ``cache`` (the batched sweep engine and its resumable cache), ``claims`` (measured values and asserted claims), ``sweep_figures`` and
   ``explorers`` (figures and widgets), and ``theory/`` (closed forms, one module per
   chapter).
2. ``configs/``: the notebooks' parameters, one module per chapter, and the ``ci`` and
   ``full`` profiles (``configs.profiles``).
3. ``book/``: the book's machinery (executing notebooks, building the HTML, the
   ``overparam`` command, launch cells, the reproducibility stamp, robustness runs).

Notebooks import all three.
"""

from importlib.metadata import PackageNotFoundError, version

from overparam_lib.errors import ParameterError

try:
    __version__ = version("overparam-lib")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["ParameterError", "__version__"]
