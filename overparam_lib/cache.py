"""An on-disk cache of finished sweep points, so an interrupted sweep resumes where it stopped.

An entry is two files named by its key: ``<key>.npz`` (plain NumPy arrays, written with
``numpy.savez``) and ``<key>.json``, a manifest holding the point's parameters, the
sha256 of the npz bytes and the library version. Both are written atomically (a
temporary file in the same directory, then ``os.replace``), the npz first and the
manifest last: an entry exists once its manifest does. Loading checks the checksum and
loads with ``allow_pickle=False``, so nothing is ever unpickled; a damaged entry is
reported, removed and counts as missing.

The key is the sha256 of the point's parameters, the data, the library's version and
source files, the torch version, the device type and the dtype: editing the library
invalidates every entry.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import tempfile
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

import overparam_lib
from overparam_lib.errors import ParameterError

CACHE_ENV_VAR = "OVERPARAM_CACHE_DIR"  # a directory; "off" or "" disables the cache
DEFAULT_CACHE_DIR = Path("~/.cache/overparam-book")
_PACKAGE_DIR = Path(__file__).resolve().parent
# what a damaged entry raises: bad JSON or checksum, a missing field or file, a cut or non-zip npz, pickled objects
_DAMAGE = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile)


def cache_dir() -> Path | None:
    """The cache directory named by ``OVERPARAM_CACHE_DIR``: ``~/.cache/overparam-book`` if unset, None if "off" or empty."""
    value = os.environ.get(CACHE_ENV_VAR)
    if value is None:
        return DEFAULT_CACHE_DIR.expanduser()
    if value.strip() in ("", "off"):
        return None
    return Path(value).expanduser()


def _canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: equal values give equal strings (tuples become lists)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)


def tensor_digest(*tensors: torch.Tensor) -> str:
    """sha256 of the tensors' shapes, dtypes and bytes (copied to the CPU), in order."""
    h = hashlib.sha256()
    for t in tensors:
        t = t.detach().cpu()
        h.update(_canonical_json([list(t.shape), str(t.dtype)]).encode())
        h.update(t.reshape(-1).contiguous().view(torch.uint8).numpy().tobytes())  # raw bytes of any dtype
    return h.hexdigest()


def source_digest(directory: str | os.PathLike | None = None) -> str:
    """sha256 of the paths and contents of the ``*.py`` files under ``directory``, subpackages
    included (default: this library's)."""
    if directory is None:
        return _library_source_digest()
    h = hashlib.sha256()
    root = Path(directory)
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


@functools.cache
def _library_source_digest() -> str:
    return source_digest(_PACKAGE_DIR)  # once per process: the code it describes is already imported


def cache_key(
    params: Mapping[str, Any], data: str, device_type: str, dtype: torch.dtype | str, source: str | None = None
) -> str:
    """The key of a sweep point: sha256 of a canonical JSON of everything its result depends on.

    Args:
        params: the point's parameters (JSON-able: numbers, strings, lists).
        data: :func:`tensor_digest` of the data it trains and is evaluated on.
        device_type: e.g. ``"cpu"``, ``"cuda"``.
        dtype: dtype of the computation.
        source: digest of the library's code (default: :func:`source_digest`).

    Returns:
        64 hex digits.
    """
    material = {
        "params": dict(params), "data": data, "version": overparam_lib.__version__,
        "source": source_digest() if source is None else source,
        "torch": torch.__version__, "device_type": device_type, "dtype": str(dtype),
    }
    return hashlib.sha256(_canonical_json(material).encode()).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class SweepCache:
    """Finished sweep points on disk, by key; ``directory=None`` disables it (every lookup misses).

    Args:
        directory: where entries live (created on the first save), or None.

    Attributes:
        hits: lookups answered from disk.
        misses: lookups that found no valid entry (including damaged ones).
    """

    def __init__(self, directory: str | os.PathLike | None):
        self.directory = None if directory is None else Path(directory)
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"SweepCache({str(self.directory)!r})" if self.directory else "SweepCache(None)"

    def paths(self, key: str) -> tuple[Path, Path]:
        """The entry's npz and manifest paths."""
        if self.directory is None:
            raise ParameterError("directory", None, "a directory (this cache is disabled)")
        return self.directory / f"{key}.npz", self.directory / f"{key}.json"

    def load(self, key: str) -> dict[str, np.ndarray] | None:
        """The arrays saved under ``key``, or None if there is no valid entry.

        An entry whose manifest is missing counts as missing (a save that was killed
        between its two writes). One whose manifest does not parse, whose npz bytes do
        not match the manifest's checksum, or whose arrays do not load without pickle is
        damaged: it is reported with a warning, removed, and counts as missing.
        """
        if self.directory is None or not self.paths(key)[1].is_file():
            self.misses += 1
            return None
        npz, manifest = self.paths(key)
        try:
            checksum = json.loads(manifest.read_text())["sha256"]
            data = npz.read_bytes()
            if hashlib.sha256(data).hexdigest() != checksum:
                raise ValueError(f"sha256 of {npz.name} does not match its manifest")
            with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                result = {name: arrays[name] for name in arrays.files}
        except _DAMAGE as error:  # recompute rather than use it or crash
            warnings.warn(f"damaged sweep cache entry {npz} ({type(error).__name__}: {error}); removed, recomputing",
                          stacklevel=2)
            manifest.unlink(missing_ok=True)  # the commit marker first: the entry is gone even if the next fails
            npz.unlink(missing_ok=True)
            self.misses += 1
            return None
        self.hits += 1
        return result

    def save(self, key: str, arrays: Mapping[str, np.ndarray], params: Mapping[str, Any]) -> None:
        """Store plain numeric ``arrays`` under ``key``, with ``params`` in the manifest; no-op if disabled."""
        if self.directory is None:
            return
        arrays = {name: np.asarray(a) for name, a in arrays.items()}
        for name, a in arrays.items():
            if a.dtype.hasobject:
                raise ParameterError(f"arrays[{name!r}].dtype", a.dtype, "a plain numeric dtype (no objects)")
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        data = buffer.getvalue()
        npz, manifest = self.paths(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_atomic(npz, data)
        record = {"key": key, "params": dict(params), "sha256": hashlib.sha256(data).hexdigest(),
                  "version": overparam_lib.__version__, "arrays": sorted(arrays)}
        _write_atomic(manifest, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode())  # last: commits
