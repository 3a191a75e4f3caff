"""``questions.py weight-decay``: lambda swept over the book's 300-image overfitting set-up, both backends.

One --quick run per backend (a module-scoped fixture); the tests assert the
numbers each conclusion stands on, read back from the --json file.
"""
import pytest

from .question_support import requires_mnist, run_question
from .script_support import PNG_SIGNATURE


@pytest.fixture(scope="module", params=["scratch", "torch"])
def result(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"weight-decay-{request.param}")
    return run_question("weight-decay", folder, backend=request.param)[1]


def by_lambda(result, key):
    measured = result["measured"]
    return dict(zip(measured["lambdas"], measured[f"final_{key}_by_lambda"]))


@requires_mnist
def test_the_penalty_in_the_loss_is_the_optimizers_weight_decay(result):
    measured = result["measured"]
    assert measured["penalty_check"]["relative_error"] < 1e-12
    assert measured["penalty_check"]["loss_difference"] > 1  # a real penalty: 1/2 0.1 ||W||^2
    assert measured["optimizer_weight_decay_max_difference"] < 1e-12


@requires_mnist
def test_the_weights_shrink_as_lambda_grows(result):
    norms = by_lambda(result, "weight_norm")
    lambdas = sorted(norms)
    assert all(norms[b] < norms[a] for a, b in zip(lambdas, lambdas[1:]))
    assert norms[lambdas[-1]] < norms[0] / 3


@requires_mnist
def test_without_decay_it_overfits_and_the_books_lambda_narrows_the_gap(result):
    train, test, gap = by_lambda(result, "train_acc"), by_lambda(result, "test_acc"), by_lambda(result, "gap")
    assert train[0] == 1.0 and gap[0] > 0.15
    assert train[0.1] < 1.0 and gap[0.1] < gap[0]
    assert all(gap[lam] == pytest.approx(train[lam] - test[lam]) for lam in gap)


@requires_mnist
def test_too_much_decay_learns_nothing(result):
    train = by_lambda(result, "train_acc")
    assert train[0.3] < 0.5
    peak = result["measured"]["strongest_lambda_peak_train_acc"]
    assert peak["train_acc"] > train[0.3]  # it learnt, then the decay undid it
    curves = result["measured"]["accuracy_per_epoch_by_lambda"]
    assert len(curves["0.3"]["train"]) == 201 and curves["0.3"]["train"][-1] == train[0.3]


@requires_mnist
def test_the_test_accuracy_conclusion_follows_the_numbers(result):
    test = by_lambda(result, "test_acc")
    best = max(test, key=test.get)
    assert result["measured"]["best_test_lambda"] == best
    assert result["conclusions"]["test_accuracy"]["holds"] == (test[best] - test[0] > 0.01)


@requires_mnist
def test_the_figure_is_a_png(result):
    assert result["plot"].read_bytes()[:8] == PNG_SIGNATURE
