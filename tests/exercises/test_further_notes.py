"""The further-notes chapter's exercises: run the notebook with the exercise's parameters and
check that what the hidden answer in ``book/further_notes.md`` says is what happens (on a run
in a scratch folder; the committed notebooks are not touched)."""

import pytest

from tests.exercises.test_double_descent import ROOT, execute_exercise, glued, run_exercise


@pytest.mark.slow  # 30 s or more on a 2-core AMD EPYC: the slow tier
def test_two_bit_messages_make_the_compressed_scheme_diverge(tmp_path):
    # Answer: with 2 bits (levels -1, 0, 1 times the largest entry) the rounding error is as large as
    # the change it codes, the errors feed back through the differential coding, and gradient descent
    # does not reach the target: the notebook stops at its claims.
    error, _ = execute_exercise(tmp_path, "distributed_training", {"bits": 2})
    assert error is not None and "every run reached the target loss: no" in error


def test_fewer_workers_leave_full_precision_unchanged(tmp_path):
    # Answer: averaging exact gradients is gradient descent however the rows are split: the same
    # steps (within one, from the float32 messages) and the same bits per worker.
    committed = glued(ROOT / "notebooks" / "distributed_training.ipynb")
    values = run_exercise(tmp_path, "distributed_training", {"world_size": 2})
    assert values["world_size"] == 2 and committed["world_size"] == 4
    assert values["steps_full_largest"] == pytest.approx(committed["steps_full_largest"], abs=1)
    assert values["bits_full_largest"] == pytest.approx(committed["bits_full_largest"], rel=1 / 50)
