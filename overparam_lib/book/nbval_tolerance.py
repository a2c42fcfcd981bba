"""pytest plugin: nbval compares measured values within their tolerance, everything else as text.

nbval (0.11, pinned) compares each re-executed cell's text outputs with the committed
ones after regex sanitizing: right for exact outputs, wrong for numbers from a training
trajectory, which differ between CPUs, SIMD paths, thread counts and GPUs. The outputs
that :func:`overparam_lib.claims.measured` and :meth:`overparam_lib.claims.Claims.check`
write carry their tolerance (or claim bounds) in their metadata. This plugin takes those
outputs out of both sides of nbval's comparison, compares them by value
(:func:`overparam_lib.claims.compare_records`), and hands the rest of the cell's outputs
to nbval's own comparison unchanged.

Loaded by the repository's ``conftest.py`` (``pytest_plugins``). nbval has no hook for
custom comparisons, so the plugin wraps its one comparison method; a test checks that the
wrapped method still sees and rejects what it should (``tests/book/test_nbval_tolerance.py``).
"""

from __future__ import annotations

from overparam_lib.claims import compare_records, has_record


def pytest_configure(config) -> None:
    from nbval.plugin import IPyNbCell

    if getattr(IPyNbCell.compare_outputs, "compares_records", False):
        return  # already wrapped (plugin loaded twice)
    nbval_compare = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        problems = compare_records([o for o in ref if has_record(o)], [o for o in test if has_record(o)])
        if problems:
            self.comparison_traceback = ["Measured values or claims differ from the committed run:", *problems]
            return False
        return nbval_compare(self, [o for o in test if not has_record(o)], [o for o in ref if not has_record(o)],
                             skip_compare)

    compare_outputs.compares_records = True
    IPyNbCell.compare_outputs = compare_outputs
