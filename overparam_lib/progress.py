"""Progress bars that show in interactive sessions and stay silent under the tests."""

from __future__ import annotations

import os
import sys

from tqdm import tqdm

#: ``0`` hides every progress bar (the tests and ``overparam build`` set it, so recorded
#: outputs hold no timings); ``1`` or unset shows them.
PROGRESS_ENV_VAR = "OVERPARAM_PROGRESS"


def progress_enabled(progress: bool | None = None) -> bool:
    """``progress`` if given, else whether ``OVERPARAM_PROGRESS`` allows bars (default: yes)."""
    if progress is not None:
        return bool(progress)
    return os.environ.get(PROGRESS_ENV_VAR, "1").strip() not in ("0", "false", "no")


def progress_bar(total: int, desc: str, progress: bool | None = None) -> tqdm:
    """A text ``tqdm`` bar on stderr over ``total`` units (works in terminals and notebooks)."""
    return tqdm(total=total, desc=desc, disable=not progress_enabled(progress), file=sys.stderr, leave=False)
