"""overparam_lib: the small GPU-capable PyTorch library behind the book.

One idea per module: ``device`` (where to compute, seeding), ``data`` (generators),
``linear`` (min-norm / ridge least squares), ``theory`` (closed-form curves),
``params`` (notebook parameters and profiles), ``book`` (execute notebooks, build).
"""

from importlib.metadata import PackageNotFoundError, version

from overparam_lib.errors import ParameterError

try:
    __version__ = version("overparam-lib")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["ParameterError", "__version__"]
