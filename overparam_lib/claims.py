"""What a notebook reports and asserts, in a form the tests can check on any machine.

Training is chaotic: a different summation order (SIMD width, thread count, BLAS code
path, GPU) sends a network down a different trajectory, so a number that depends on one
differs from machine to machine in its last digits, or more. A notebook's outputs come
in two kinds, checked two ways:

- **Exact** outputs (configs, closed forms, float64 linear algebra at the precision
  printed) are glued with myst-nb's ``glue`` or printed, and ``pytest --nbval`` compares
  them with the committed outputs as text.
- **Measured** outputs (anything that depends on a training trajectory or on float32
  summation order) are glued with :func:`measured`, which records a tolerance beside the
  value. The tests' nbval plugin (:mod:`overparam_lib.book.nbval_tolerance`) compares such a
  value with the committed run's within that tolerance, not as text: a run on another
  machine passes, a run that drifts far from what the book shows fails. The tolerance
  comes from the value's seed-to-seed spread (``overparam robustness`` measures it).

A notebook asserts its claims through :class:`Claims`: each claim is a quantity and the
interval it must lie in; the table of them is shown, any claim that fails raises, and
``overparam robustness`` reads the same records from runs at many seeds to report each
claim's pass rate, mean, spread and worst value.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from overparam_lib.errors import ParameterError

#: Key of the output metadata under which measured values and claims are recorded.
METADATA_KEY = "overparam"
_GLUE_PREFIX = "application/papermill.record/"  # myst-nb's prefix for glued values (display=False)


@dataclass(frozen=True)
class Tolerance:
    """How far a measured value may move from the committed run: exactly one field is set."""

    atol: float | None = None  # |new - committed| <= atol
    rtol: float | None = None  # |new - committed| <= rtol * |committed|
    factor: float | None = None  # new / committed in [1 / factor, factor] (positive quantities, e.g. widths)

    def __post_init__(self):
        given = {k: v for k, v in asdict(self).items() if v is not None}
        if len(given) != 1:
            raise ParameterError("tolerance", given, "exactly one of atol, rtol, factor")
        (name, value), = given.items()
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > (1 if name == "factor" else 0):
            raise ParameterError(name, value, "a number > 1" if name == "factor" else "a number > 0")

    @classmethod
    def of(cls, record: dict) -> Tolerance:
        """The tolerance stored in a measured value's record (see :func:`measured`)."""
        return cls(**{k: record[k] for k in ("atol", "rtol", "factor") if k in record})

    def allows(self, committed: float, new: float) -> bool:
        """Whether ``new`` is within this tolerance of ``committed`` (non-finite values must be equal)."""
        if not (math.isfinite(committed) and math.isfinite(new)):
            return committed == new or (math.isnan(committed) and math.isnan(new))
        if self.atol is not None:
            return abs(new - committed) <= self.atol
        if self.rtol is not None:
            return abs(new - committed) <= self.rtol * abs(committed)
        return committed > 0 and new > 0 and abs(math.log(new / committed)) <= math.log(self.factor)

    def __str__(self) -> str:
        if self.atol is not None:
            return f"± {self.atol:g}"
        return f"± {100 * self.rtol:g}%" if self.rtol is not None else f"× or ÷ {self.factor:g}"


def measured(name: str, value: float, *, atol: float | None = None, rtol: float | None = None,
             factor: float | None = None) -> None:
    """Glue a measured number for the book, with the tolerance the tests compare it within.

    The output is exactly what ``myst_nb.glue(name, value, display=False)`` writes (so
    chapter pages read it with ``{glue:text}``), plus the tolerance in its metadata.

    Args:
        name: the glue key.
        value: the number (a trajectory-dependent quantity).
        atol, rtol, factor: the tolerance, exactly one (see :class:`Tolerance`); take it
            from the value's seed-to-seed spread, e.g. 3 standard deviations.
    """
    from IPython.display import display

    tolerance = Tolerance(atol, rtol, factor)
    value = _plain(name, value)
    metadata = {
        "scrapbook": {"name": name, "mime_prefix": _GLUE_PREFIX},
        METADATA_KEY: {"measured": {"name": name, "value": value, **_set_fields(tolerance)}},
    }
    display({_GLUE_PREFIX + "text/plain": repr(value)}, raw=True, metadata=metadata)


@dataclass(frozen=True)
class Claim:
    """One asserted claim: ``value`` must lie in ``[low, high]`` (a bound of None is open);
    a yes/no claim has ``value`` True or False and no bounds."""

    claim: str
    value: float | bool
    low: float | None = None
    high: float | None = None

    @property
    def holds(self) -> bool:
        if isinstance(self.value, bool):
            return self.value
        return (self.low is None or self.value >= self.low) and (self.high is None or self.value <= self.high)

    @property
    def required(self) -> str:
        if isinstance(self.value, bool):
            return "yes"
        if self.low is not None and self.high is not None:
            return f"{self.low:.3g} to {self.high:.3g}"
        return f">= {self.low:.3g}" if self.low is not None else f"<= {self.high:.3g}"

    def margin(self) -> float:
        """Distance from the nearer bound, negative when the claim fails (nan for yes/no claims)."""
        if isinstance(self.value, bool):
            return math.nan
        sides = [self.value - self.low] if self.low is not None else []
        sides += [self.high - self.value] if self.high is not None else []
        return min(sides)


class Claims:
    """The claims a notebook asserts, checked together.

    ``claims.at_least("peak above the classical minimum (points)", rise, 2)`` and the like
    record each claim; :meth:`check` shows them as a table and raises ``AssertionError``
    naming every claim that fails. Record the quantity itself, not a yes/no, wherever
    there is one: its spread over seeds is what says how safe the claim is.
    """

    def __init__(self):
        self.claims: list[Claim] = []

    def at_least(self, claim: str, value: float, low: float) -> None:
        self.claims.append(Claim(claim, _plain(claim, value), low=float(low)))

    def at_most(self, claim: str, value: float, high: float) -> None:
        self.claims.append(Claim(claim, _plain(claim, value), high=float(high)))

    def between(self, claim: str, value: float, low: float, high: float) -> None:
        self.claims.append(Claim(claim, _plain(claim, value), low=float(low), high=float(high)))

    def holds(self, claim: str, condition: bool) -> None:
        self.claims.append(Claim(claim, bool(condition)))

    def check(self) -> None:
        """Show every claim with its value; raise ``AssertionError`` if any fails."""
        from IPython.display import display

        records = [{**asdict(c), "holds": c.holds} for c in self.claims]
        display({"text/plain": claims_table(self.claims)}, raw=True, metadata={METADATA_KEY: {"claims": records}})
        failed = [c for c in self.claims if not c.holds]
        if failed:
            raise AssertionError("claims that do not hold: " + "; ".join(
                f"{c.claim}: {_format(c.value)} (required {c.required})" for c in failed))


def seed_interval(values, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over replicates (axis 0) and its two-sided Student-t confidence interval.

    Args:
        values: (S, ...) one row per replicate (e.g. per seed), S >= 2.
        level: confidence level in (0, 1).

    Returns:
        ``(mean, low, high)``, each (...).
    """
    from scipy.stats import t

    values = np.asarray(values, dtype=np.float64)
    S = values.shape[0]
    mean = values.mean(0)
    half = t.ppf((1 + level) / 2, S - 1) * values.std(0, ddof=1) / math.sqrt(S)
    return mean, mean - half, mean + half


def loglog_slope(x, values) -> float:
    """The least-squares slope of ``log(values)`` against ``log(x)``, every replicate a point.

    Args:
        x: (K,) positive abscissae (widths, scales).
        values: (K,) or (K, S) positive values, one column per replicate (e.g. per seed).
    """
    x, values = np.asarray(x, dtype=np.float64), np.asarray(values, dtype=np.float64)
    values = values.reshape(len(x), -1)
    return float(np.polyfit(np.repeat(np.log(x), values.shape[1]), np.log(values).ravel(), 1)[0])


def mean_interval(samples, level: float = 0.95) -> tuple[float, float, float]:
    """:func:`seed_interval` of one value per replicate, checked: ``(mean, low, high)`` as floats.

    Args:
        samples: (S,) one value per replicate (e.g. per seed), S >= 2.
        level: confidence level in (0, 1).
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(-1)
    if samples.size < 2 or not np.isfinite(samples).all():
        raise ParameterError("samples", samples.tolist(), "at least 2 finite values")
    if not 0 < level < 1:
        raise ParameterError("level", level, "a number in (0, 1)")
    return tuple(float(v) for v in seed_interval(samples, level))


def claims_table(claims: list[Claim]) -> str:
    """Plain-text table: claim, value, required, holds; and a count."""
    rows = [("claim", "value", "required", "holds")]
    rows += [(c.claim, _format(c.value), c.required, "yes" if c.holds else "NO") for c in claims]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    held = sum(c.holds for c in claims)
    return "\n".join(lines + [f"{held} of {len(claims)} claims hold"])


def records(outputs: list[dict]) -> tuple[dict[str, dict], list[dict]]:
    """The measured values (by name) and the claims recorded in a list of cell outputs."""
    values, claims = {}, []
    for output in outputs:
        record = output.get("metadata", {}).get(METADATA_KEY, {})
        if "measured" in record:
            values[record["measured"]["name"]] = record["measured"]
        # JSON has no nan or inf: the kernel writes a non-finite value as text ('nan', 'inf')
        claims += [{**c, "value": float(c["value"])} if isinstance(c["value"], str) else c for c in record.get("claims", [])]
    return values, claims


def glued_values(outputs: list[dict]) -> dict[str, Any]:
    """Every value glued with ``display=False`` (by :func:`measured` or myst-nb's ``glue``) in
    a list of cell outputs, by name, read back from its ``repr`` (numbers, strings, tuples)."""
    import ast

    values = {}
    for output in outputs:
        name = output.get("metadata", {}).get("scrapbook", {}).get("name")
        text = output.get("data", {}).get(_GLUE_PREFIX + "text/plain")
        if name is not None and text is not None:
            try:
                values[name] = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                values[name] = text  # not a literal (e.g. an object's repr): kept as text
    return values


def compare_records(committed: list[dict], new: list[dict]) -> list[str]:
    """What differs between the committed and the new records of one cell, as messages.

    Measured values are compared within the committed record's tolerance; claims by their
    wording, bounds and outcome (their values are checked by the bounds themselves).
    """
    (old_values, old_claims), (new_values, new_claims) = records(committed), records(new)
    problems = []
    if old_values.keys() != new_values.keys():
        problems.append(f"measured values differ: committed {sorted(old_values)}, now {sorted(new_values)}")
    for name in old_values.keys() & new_values.keys():
        old, now = old_values[name], new_values[name]
        tolerance = Tolerance.of(old)
        if not tolerance.allows(old["value"], now["value"]):
            problems.append(f"measured value {name!r}: committed {old['value']!r}, now {now['value']!r}, "
                            f"outside the tolerance {tolerance}")
    claim_keys = lambda claims: [(c["claim"], c["low"], c["high"], c["holds"]) for c in claims]
    if claim_keys(old_claims) != claim_keys(new_claims):
        problems.append(f"claims differ: committed {claim_keys(old_claims)}, now {claim_keys(new_claims)}")
    return problems


def has_record(output: dict) -> bool:
    """Whether an output carries a measured value or claims (and is compared by :func:`compare_records`)."""
    return METADATA_KEY in output.get("metadata", {})


def _plain(name: str, value: Any) -> float | int | bool:
    """``value`` as a plain bool, int (so a width glues as ``72``) or float."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, value, "a number") from None


def _set_fields(tolerance: Tolerance) -> dict[str, float]:
    return {k: v for k, v in asdict(tolerance).items() if v is not None}


def _format(value: float | bool) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return f"{value:.3g}"
