"""gradient-check-gap: the notes' gradient check reproduced, and the 1e-7 in cross_entropy_error shown to be the gap.

One --quick run (book's code, scratch backend only); the tests read its JSON.
"""
from types import SimpleNamespace

import numpy as np
import pytest

import scratch.book
from toolkit import questions
from toolkit.questions import gradient_check_gap as question
from toolkit.questions.session import Session
from .question_support import requires_mnist, run_question

PARAMS = ("W1", "b1", "W2", "b2")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    _, result = run_question("gradient-check-gap", tmp_path_factory.mktemp("gradient-check-gap"))
    return result


def measured(result, key):
    return result["measured"][key]


@requires_mnist
def test_removing_the_1e_7_shrinks_the_gap_by_orders_of_magnitude(result):
    shrink = measured(result, "reproduction.shrink_without_1e-7")
    assert all(shrink[p] > 300 for p in PARAMS), shrink


@requires_mnist
def test_with_the_1e_7_the_check_prints_the_notes_numbers_and_without_it_the_books(result):
    with_delta = measured(result, "reproduction.with_1e-7")
    without_delta = measured(result, "reproduction.without_1e-7")
    for p in PARAMS:
        assert question.NOTES[p] / 3 < with_delta[p] < question.NOTES[p] * 3, (p, with_delta[p])
        assert question.BOOK[p] / 10 < without_delta[p] < question.BOOK[p] * 10, (p, without_delta[p])


@requires_mnist
def test_the_closed_form_of_the_1e_7_predicts_b2s_gap_in_every_row(result):
    assert measured(result, "reproduction.b2_predicted_from_1e-7") == pytest.approx(
        measured(result, "reproduction.with_1e-7")["b2"], rel=0.01)
    for label, row in measured(result, "samples").items():
        assert row["b2_predicted_from_1e-7"] == pytest.approx(row["with_1e-7"]["b2"], rel=0.01), label


@requires_mnist
def test_with_the_1e_7_the_gap_does_not_depend_on_h_and_without_it_truncation_then_rounding(result):
    steps = measured(result, "h_sweep.h")
    with_delta = dict(zip(steps, measured(result, "h_sweep")["with_1e-7"]["b2"]))
    without_delta = dict(zip(steps, measured(result, "h_sweep")["without_1e-7"]["b2"]))
    assert max(with_delta[h] for h in (1e-6, 1e-5, 1e-4)) / min(with_delta[h] for h in (1e-6, 1e-5, 1e-4)) < 1.05
    assert without_delta[1e-2] / without_delta[1e-3] == pytest.approx(100, rel=0.2)  # truncation ~ h^2
    assert without_delta[1e-9] / without_delta[1e-10] == pytest.approx(0.1, rel=0.5)  # rounding ~ 1/h
    assert without_delta[1e-4] < without_delta[1e-1] / 1e5 and without_delta[1e-4] < without_delta[1e-10] / 1e3


@requires_mnist
def test_float64_images_change_nothing_and_a_float32_network_is_far_worse_than_the_notes(result):
    assert measured(result, "precision.float64_images_change") < 1.5
    assert measured(result, "precision.float32_network_over_notes") > 100


@requires_mnist
def test_which_samples_and_weights_leave_b2s_gap_at_the_1e_7s_size(result):
    rows = measured(result, "samples").values()
    assert len(rows) >= 8
    assert all(3e-8 < row["with_1e-7"]["b2"] < 3e-7 for row in rows)
    assert all(row["without_1e-7"]["b2"] < 1e-9 for row in rows)


@requires_mnist
def test_every_conclusion_holds_and_the_figure_is_a_png(result):
    assert {key: c["holds"] for key, c in result["conclusions"].items()} == {
        "the_1e-7_accounts_for_the_gap": True, "the_step_h_does_not": True, "float32_does_not": True,
        "the_samples_do_not": True}
    assert result["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_delta_switch_restores_the_books_1e_7_even_after_an_error():
    with pytest.raises(RuntimeError):
        with question.cross_entropy_delta(scratch.book, 0.0):
            assert scratch.book.functions.CROSS_ENTROPY_DELTA == 0.0
            raise RuntimeError("inside")
    assert scratch.book.functions.CROSS_ENTROPY_DELTA == 1e-7


def test_the_same_seed_gives_the_same_gaps_and_the_closed_form_holds_on_random_images():
    images = np.random.default_rng(0).random((3, 784)).astype(np.float32)
    labels = np.array([3, 1, 4])
    gaps = [question.gradient_gaps(scratch.book, question.book_network(scratch.book, 7), images, labels, ("b2",))
            for _ in range(2)]
    assert gaps[0] == gaps[1]
    predicted = question.predicted_b2_gap(scratch.book, question.book_network(scratch.book, 7), images, labels)
    assert gaps[0]["b2"] == pytest.approx(predicted, rel=0.01)
    without = question.gradient_gaps(scratch.book, question.book_network(scratch.book, 7), images, labels, ("b2",),
                                     delta=0.0)
    assert without["b2"] < gaps[0]["b2"] / 100


def test_the_float32_network_holds_the_books_weights_rounded():
    float64 = question.book_network(scratch.book, 3)
    float32 = question.book_network(scratch.book, 3, float32=True)
    for name in PARAMS:
        assert float32.params[name].dtype == np.float32
        np.testing.assert_array_equal(float32.params[name], float64.params[name].astype(np.float32))


@requires_mnist
def test_the_sessions_float32_images_are_the_books_load_mnist_bit_for_bit():
    args = SimpleNamespace(quick=True, seed=0, backend="scratch", threads=1, no_plot=True, plot=None, json=None,
                           markdown=None, no_progress=True, data_dir=None, download=False)
    (x, t), _ = Session(questions.find_question("gradient-check-gap"), args).mnist(train_size=100, dtype="float32")
    (x_book, t_book), _ = scratch.book.load_mnist(normalize=True)
    np.testing.assert_array_equal(x, x_book[:100])
    np.testing.assert_array_equal(t, t_book[:100])
