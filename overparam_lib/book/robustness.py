"""``overparam robustness``: run a notebook at many seeds, and report how its claims hold.

A claim the book makes must hold for any seed and any machine, not only for the run that
was committed. This module executes a notebook with papermill at each seed (``-p seed``)
in a scratch folder, optionally on another CPU code path or thread count, reads the
claims and measured values it recorded (:mod:`overparam_lib.claims`), and summarizes
them: each claim's pass rate, mean, spread and worst value; each measured value's spread
beside the tolerance the tests allow it around the committed run.

A report is written as two files: ``NAME[-SETTING].json``, the record (the committed run it
was made against, every seed's run, the command that remakes it), and ``NAME[-SETTING].md``,
rendered from the record for the book. :func:`stale` compares a record with the committed
notebook by its measured values and claims, so a change that moves a trajectory makes the
report stale (a test fails), while a refactor that leaves every value in place does not.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shlex
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
import numpy as np

from overparam_lib.book.build import run_papermill
from overparam_lib.cache import CACHE_ENV_VAR
from overparam_lib.claims import Claim, Tolerance, records
from overparam_lib.errors import ParameterError

#: The seeds bounds and tolerances are chosen on; other seeds confirm them.
CHOSEN_SEEDS = list(range(10))

#: Environment of each CPU code path. ATen's own kernels follow ATEN_CPU_CAPABILITY, but
#: matrix products go through MKL, which dispatches on its own: both must be set to run
#: the code of a machine without AVX-512.
CODE_PATHS = {
    "default": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
}


@dataclass
class SeedRun:
    """One execution of a notebook at one seed."""

    seed: int
    seconds: float
    error: str | None  # papermill's "Name: message", or None
    values: dict[str, dict] = field(default_factory=dict)  # measured records by name
    claims: list[dict] = field(default_factory=list)  # claim records

    @property
    def passed(self) -> bool:
        return self.error is None and all(c["holds"] for c in self.claims)


def code_path_env(code_path: str, threads: int | None = None) -> dict[str, str]:
    """Environment variables for a kernel on ``code_path`` with ``threads`` threads."""
    if code_path not in CODE_PATHS:
        raise ParameterError("code_path", code_path, f"one of {', '.join(CODE_PATHS)}")
    env = dict(CODE_PATHS[code_path])
    if threads is not None:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def notebook_records(path: Path) -> tuple[dict[str, dict], list[dict]]:
    """The measured values and claims recorded anywhere in a notebook's outputs."""
    nb = nbformat.read(path, as_version=4)
    return records([o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs])


def run_seeds(notebook: Path, seeds: list[int], env: dict[str, str] | None = None, parameters: dict | None = None,
              log=print, jobs: int = 1) -> list[SeedRun]:
    """Execute ``notebook`` once per seed in a scratch folder; what each run recorded.

    ``jobs`` kernels run side by side (each with the threads ``env`` gives it), in seed order.
    The sweep cache is off: its key holds the device type, not the CPU code path, so a
    cached point would stand in for the very run that is to be checked.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ParameterError("jobs", jobs, "a positive integer")
    env = {CACHE_ENV_VAR: "off", **(env or {})}
    arguments = [(notebook, seed, env, parameters or {}) for seed in seeds]
    if jobs == 1:
        outcomes = map(_run_one, *zip(*arguments))
    else:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"))
        outcomes = pool.map(_run_one, *zip(*arguments))
    runs = []
    try:
        for run in outcomes:
            log(f"{notebook.name} seed {run.seed}: {'pass' if run.passed else 'FAIL'} in {run.seconds:.1f} s"
                + (f" ({run.error.splitlines()[0][:200]})" if run.error else ""))
            runs.append(run)
    finally:
        if jobs > 1:
            pool.shutdown(cancel_futures=True)
    return runs


def _run_one(notebook: Path, seed: int, env: dict[str, str], parameters: dict) -> SeedRun:
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        executed = Path(tmp) / notebook.name
        error = run_papermill(notebook, executed, {**parameters, "seed": seed}, Path(tmp), env=env)
        values, claims = notebook_records(executed) if executed.is_file() else ({}, [])
    return SeedRun(seed, time.perf_counter() - start, error, values, claims)


def record(notebook: Path, runs: list[SeedRun], setting: str, command: str = "") -> dict:
    """What a report says, as data: the committed run it describes, each seed's run, how to remake it."""
    values, claims = notebook_records(notebook)
    return {"notebook": f"notebooks/{notebook.name}", "setting": setting, "command": command,
            "committed": {"values": values, "claims": claims}, "runs": [asdict(run) for run in runs]}


def render(record: dict) -> str:
    """Markdown: the pass rate, a table of claims and a table of measured values.

    A record imported from a report written before records kept their runs carries that
    report's text instead (``runs`` is None): it is shown as it was.
    """
    if record["runs"] is None:
        return record["markdown"]
    runs = [SeedRun(**run) for run in record["runs"]]
    seeds = ", ".join(str(r.seed) for r in runs)
    passed = sum(r.passed for r in runs)
    lines = [f"### `{Path(record['notebook']).name}`: {record['setting']}", "",
             f"Seeds {seeds}: **{passed} of {len(runs)} runs pass every claim**; "
             f"{np.median([r.seconds for r in runs]):.0f} s per run (median, papermill, kernel start included).", ""]
    lines += [f"- seed {r.seed} failed: {r.error}" for r in runs if r.error and "AssertionError" not in r.error]
    lines += _claims_table(runs) + [""] + _measured_table(record["committed"]["values"], runs)
    return "\n".join(lines) + "\n"


def report(notebook: Path, runs: list[SeedRun], setting: str) -> str:
    """The markdown report of ``runs`` of ``notebook`` (see :func:`render`)."""
    return render(record(notebook, runs, setting))


def write_report(directory: Path, stem: str, record: dict) -> Path:
    """Write ``stem.json`` (the record) and ``stem.md`` (its rendering) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    # Keys keep the notebook's order, which render's tables follow: a sorted dump would reorder them.
    text = json.dumps(record, indent=1) + "\n"
    (directory / f"{stem}.json").write_text(text)
    markdown = directory / f"{stem}.md"
    markdown.write_text(render(json.loads(text)))  # what the record renders to once read back
    return markdown


def load_record(path: Path) -> dict:
    """A report's record, as :func:`write_report` wrote it."""
    return json.loads(path.read_text())


def stale(record: dict, notebook: Path) -> list[str]:
    """How the committed ``notebook`` differs from the run ``record`` was made against (empty: it does not).

    Measured values are compared to 1e-9 relative (the stored floats, read back), claims by
    wording, bounds, value and outcome.
    """
    values, claims = notebook_records(notebook)
    then = record["committed"]
    differences = [f"measured value {name}: {_value(then['values'], name)} in the report, "
                   f"{_value(values, name)} in the notebook"
                   for name in sorted(set(values) | set(then["values"]))
                   if not _same(then["values"].get(name, {}).get("value"), values.get(name, {}).get("value"))]
    differences += [f"tolerance of {name}: {Tolerance.of(then['values'][name])} in the report, "
                    f"{Tolerance.of(values[name])} in the notebook"
                    for name in sorted(set(values) & set(then["values"]))
                    if Tolerance.of(then["values"][name]) != Tolerance.of(values[name])]
    now_claims = {c["claim"]: c for c in claims}
    then_claims = {c["claim"]: c for c in then["claims"]}
    for name in sorted(set(now_claims) | set(then_claims)):
        old, new = then_claims.get(name), now_claims.get(name)
        if old is None or new is None or any(not _same(old[k], new[k]) for k in ("value", "low", "high", "holds")):
            differences.append(f"claim {name!r}: {_claim(old)} in the report, {_claim(new)} in the notebook")
    return differences


def refresh(record: dict, notebook: Path) -> dict:
    """``record`` with the committed run's tolerances taken from ``notebook``, whose values and
    claims must be the ones the record was made against: the runs are still the evidence, only
    the tolerances they are compared with moved. Raises ValueError naming anything else that moved.
    """
    moved = [d for d in stale(record, notebook) if not d.startswith("tolerance of ")]
    if moved or record["runs"] is None:
        raise ValueError(f"{record['notebook']}: " + ("; ".join(moved) or "a record without runs") + ": rerun it")
    values, claims = notebook_records(notebook)
    return {**record, "committed": {"values": values, "claims": claims}}


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) | isinstance(b, bool):
        return a == b or math.isclose(a, b, rel_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return a == b


def _value(values: dict, name: str) -> str:
    return repr(values[name]["value"]) if name in values else "absent"


def _claim(claim: dict | None) -> str:
    if claim is None:
        return "absent"
    return f"value {claim['value']!r}, bounds [{claim['low']}, {claim['high']}], holds {claim['holds']}"


def _claims_table(runs: list[SeedRun]) -> list[str]:
    names = list(dict.fromkeys(c["claim"] for r in runs for c in r.claims))
    if not names:
        return ["No claims recorded."]
    rows = ["| claim | required | holds | mean | SD | worst |", "| --- | --- | --- | --- | --- | --- |"]
    for name in names:
        found = [c for r in runs for c in r.claims if c["claim"] == name]
        held = sum(c["holds"] for c in found)
        first = found[0]
        if isinstance(first["value"], bool):
            rows.append(f"| {_cell(name)} | yes | {held}/{len(runs)} | | | |")
            continue
        values = np.array([c["value"] for c in found], dtype=float)
        margins = [Claim(c["claim"], c["value"], c["low"], c["high"]).margin() for c in found]
        worst = found[int(np.argmin(margins))]["value"]
        rows.append(f"| {_cell(name)} | {_required(first)} | {held}/{len(runs)} | {_g(values.mean())} | "
                    f"{_g(_sd(values))} | {_g(worst)} |")
    return rows


def _measured_table(committed: dict[str, dict], runs: list[SeedRun]) -> list[str]:
    names = list(dict.fromkeys(name for r in runs for name in r.values))
    if not names:
        return ["No measured values recorded."]
    rows = ["| measured value | committed | tolerance | mean | SD | min | max | within tolerance |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    narrow = []
    for name in names:
        found = [r.values[name] for r in runs if name in r.values]
        values = np.array([v["value"] for v in found], dtype=float)
        reference = committed.get(name, found[0])
        tolerance = Tolerance.of(reference)
        within = sum(tolerance.allows(reference["value"], v) for v in values)
        if _allowance(tolerance, reference["value"]) < 3 * _spread(tolerance, values):
            narrow.append(name)
        rows.append(f"| {_cell(name)} | {_g(reference['value'])} | {tolerance} | {_g(values.mean())} | {_g(_sd(values))} | "
                    f"{_g(values.min())} | {_g(values.max())} | {within}/{len(values)} |")
    if narrow:
        rows += ["", f"Tolerance narrower than 3 seed-to-seed SD: {', '.join(narrow)}."]
    return rows


def _allowance(tolerance: Tolerance, committed: float) -> float:
    """The tolerance's half-width, in the units :func:`_spread` measures spread in."""
    if tolerance.atol is not None:
        return tolerance.atol
    return tolerance.rtol * abs(committed) if tolerance.rtol is not None else math.log(tolerance.factor)


def _spread(tolerance: Tolerance, values: np.ndarray) -> float:
    """Seed-to-seed SD, of the log for a factor tolerance (0 with fewer than two finite values)."""
    finite = values[np.isfinite(values)]
    if tolerance.factor is not None:
        finite = np.log(finite[finite > 0])
    return _sd(finite) if finite.size > 1 else 0.0


def _required(claim: dict) -> str:
    low, high = claim["low"], claim["high"]
    if low is not None and high is not None:
        return f"{low:.3g} to {high:.3g}"
    return f"≥ {low:.3g}" if low is not None else f"≤ {high:.3g}"


def _sd(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def _g(x: float) -> str:
    return f"{x:.3g}"


def _cell(text: str) -> str:
    """Text for a markdown table cell: a ``|`` (as in ``|z|``) would end the cell."""
    return text.replace("|", "\\|")


def parse_seeds(text: str) -> list[int]:
    """``"0-9"``, ``"0,3,7"`` or a mix (``"0-4,10"``) as a list of seeds."""
    seeds = []
    try:
        for part in text.split(","):
            low, _, high = part.partition("-")
            seeds += list(range(int(low), int(high) + 1)) if high else [int(low)]
    except ValueError:
        raise ParameterError("--seeds", text, "seeds like 0-9 or 0,3,7") from None
    if not seeds or min(seeds) < 0:
        raise ParameterError("--seeds", text, "non-negative seeds like 0-9 or 0,3,7")
    return seeds


def setting_label(code_path: str, threads: int | None, parameters: dict, seeds: list[int] | None = None) -> str:
    """How the runs were made, for a report's heading: the CPU's own code path names what it ran on."""
    import torch

    threads = threads or int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
    capability = torch.backends.cpu.get_cpu_capability()  # e.g. AVX2 or AVX512: what "default" is here
    path = f"{code_path} code path" + (f" (a CPU with {capability})" if code_path == "default" else "")
    parts = [f"`ci` profile, {path}", f"{threads} thread{'s' if threads > 1 else ''}"]
    parts += [f"{k} = {v!r}" for k, v in parameters.items()]
    if seeds is not None and seeds != CHOSEN_SEEDS:
        parts.append("confirmation run: seeds other than the 0-9 the bounds were first chosen on")
    return ", ".join(parts)


def report_stem(notebook: Path, code_path: str, threads: int | None, parameters: dict, seeds: list[int]) -> str:
    """``NAME``, or ``NAME-avx2-1threads``, ``NAME-seeds10-19`` and the like: the report's file name."""
    parts = [] if (code_path, threads) == ("default", None) else [code_path] + ([f"{threads}threads"] if threads else [])
    parts += [f"{k}={v}" for k, v in parameters.items()]
    if seeds != CHOSEN_SEEDS:
        parts.append(f"seeds{_seed_ranges(seeds)}")
    return "-".join([notebook.stem] + parts)


def remake_command(notebook: Path, seeds: str, code_path: str, threads: int | None, parameters: list) -> str:
    """The ``overparam robustness`` command that remakes a report into ``book/robustness``."""
    words = ["overparam", "robustness", notebook.stem, "--seeds", seeds]
    words += ["--code-path", code_path] if code_path != "default" else []
    words += ["--threads", str(threads)] if threads else []
    for key, value in parameters:
        words += ["-p", key, shlex.quote(value)]
    return " ".join(words + ["--report", "book/robustness"])


def _seed_ranges(seeds: list[int]) -> str:
    """``[10, 11, ..., 19]`` as ``10-19``, ``[0, 3, 4]`` as ``0_3-4``."""
    ranges, start = [], seeds[0]
    for previous, seed in zip(seeds, seeds[1:] + [None]):
        if seed != previous + 1 if seed is not None else True:
            ranges.append(f"{start}-{previous}" if previous != start else f"{start}")
            start = seed
    return "_".join(ranges)
