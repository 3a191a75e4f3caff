"""``questions.py one-hot``: the measured basis of each conclusion, on both backends.

One --quick run per backend (a module-scoped fixture); the tests read its JSON numbers. The two forms
of the cross-entropy and the squared-error layer are also checked on random numbers, without MNIST.
"""
from types import SimpleNamespace

import numpy as np
import pytest

from toolkit.questions import one_hot as question
from .question_support import requires_mnist, run_question

QUICK_TEST_IMAGES = 2000


@pytest.fixture(scope="module", params=["scratch", "torch"])
def run(request, tmp_path_factory):
    stdout, result = run_question("one-hot", tmp_path_factory.mktemp(f"one-hot-{request.param}"),
                                  backend=request.param)
    return SimpleNamespace(stdout=stdout, result=result, measured=result["measured"], backend=request.param)


@requires_mnist
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_one_hot_and_indices_give_the_same_loss_and_gradient_to_rounding(run, dtype):
    forms = run.measured["one_hot_against_indices"][dtype]
    eps = np.finfo(dtype).eps
    assert forms["written_out_loss_difference"] <= 4 * eps * forms["loss_indices"]
    assert forms["written_out_gradient_max_difference"] <= 4 * eps * forms["gradient_max"]
    assert forms["loss_indices"] > 0.01  # a real loss, not a degenerate one
    # the backend's layer and cross_entropy_error given one-hot rows: exactly the same numbers
    assert forms["layer_one_hot_loss_difference"] == 0
    assert forms["layer_one_hot_gradient_max_difference"] == 0
    assert forms["cross_entropy_error_difference"] == 0


@requires_mnist
def test_the_confusion_matrices_count_every_test_image_and_give_the_accuracy(run):
    for name, counts in run.measured["confusion_matrices"].items():
        counts = np.array(counts)
        assert counts.shape == (10, 10) and counts.sum() == QUICK_TEST_IMAGES
        assert np.trace(counts) / counts.sum() == pytest.approx(run.measured["errors"][name]["accuracy"])


@requires_mnist
def test_classification_beats_regressing_the_digit(run):
    errors = run.measured["errors"]
    assert errors["classification"]["accuracy"] > 0.85
    assert errors["classification"]["accuracy"] > errors["regression"]["accuracy"] + 0.2


@requires_mnist
def test_the_regressions_errors_fall_on_numeric_neighbours(run):
    shares = {}
    for name, counts in run.measured["confusion_matrices"].items():
        counts = np.array(counts)
        i, j = np.indices(counts.shape)
        shares[name] = counts[np.abs(i - j) == 1].sum() / counts[i != j].sum()  # recomputed from the matrix
        assert shares[name] == pytest.approx(run.measured["errors"][name]["neighbour_share_of_errors"])
    assert shares["regression"] > 0.4
    assert shares["regression"] > 2 * shares["classification"]
    errors = run.measured["errors"]
    assert errors["regression"]["mean_error_distance"] < errors["classification"]["mean_error_distance"]


@requires_mnist
def test_every_conclusion_is_the_expected_one_on_quick(run):
    conclusions = run.result["conclusions"]
    assert set(conclusions) == {"one_hot_and_indices_are_identical", "classification_beats_regression",
                                "regression_confuses_numeric_neighbours"}
    assert all(c["holds"] for c in conclusions.values()), conclusions
    assert "contrary" not in run.stdout


@requires_mnist
def test_the_same_seed_gives_the_same_numbers(run, tmp_path):
    if run.backend != "scratch":
        pytest.skip("one rerun is enough: the scratch backend's, the cheaper")
    _, again = run_question("one-hot", tmp_path, "--no-plot", backend="scratch")
    assert again["measured"] == run.measured


@requires_mnist
def test_the_figure_is_a_png(run):
    assert run.result["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- without MNIST ---------------------------------------------------------------------------------------

def fake_session(backend):
    import scratch

    if backend == "torch":
        import reference
        return SimpleNamespace(backend=reference, torch=True,
                               to_numpy=lambda x: x.detach().numpy() if hasattr(x, "detach") else np.asarray(x))
    return SimpleNamespace(backend=scratch, torch=False, to_numpy=np.asarray)


@pytest.mark.parametrize("backend", ["scratch", "torch"])
def test_the_written_out_one_hot_formula_is_y_minus_t_over_n(backend):
    session = fake_session(backend)
    rng = np.random.default_rng(1)
    scores, labels = 3 * rng.standard_normal((6, 10)), rng.integers(0, 10, 6)
    t = question.one_hot(labels, "float64")
    assert (t.sum(axis=1) == 1).all() and (t.argmax(axis=1) == labels).all()
    loss, grad = question.from_one_hot_written_out(session, scores, t)
    y = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(-np.mean(np.log(y[np.arange(6), labels])), rel=1e-14)
    np.testing.assert_allclose(grad, (y - t) / 6, rtol=0, atol=1e-16)
    loss_i, grad_i = question.from_indices(session, scores, labels)
    assert abs(loss - loss_i) <= 4e-16 * loss
    np.testing.assert_allclose(grad, grad_i, rtol=0, atol=4 * np.finfo(float).eps * np.abs(grad_i).max())  # rounding


def test_the_squared_error_layers_backward_is_its_derivative():
    import scratch

    layer = question.SquaredErrorLoss(scratch, torch=False)
    y, labels = np.array([[0.5], [7.25], [3.0]]), np.array([1, 7, 9])
    loss = layer.forward(y, labels)
    assert loss == pytest.approx((0.25 + 0.0625 + 36) / 2 / 3)
    h = 1e-6
    numerical = [(layer.forward(y + h * np.eye(3)[:, [k]], labels) - layer.forward(y - h * np.eye(3)[:, [k]], labels))
                 / (2 * h) for k in range(3)]
    layer.forward(y, labels)
    np.testing.assert_allclose(layer.backward(1)[:, 0], numerical, rtol=1e-8)


def test_the_error_summary_counts_neighbours_and_distances():
    counts = np.diag(np.full(10, 5))
    counts[3, 4] = 2  # one digit away
    counts[4, 9] = 1  # five digits away
    summary = question.error_summary(counts)
    assert summary == {"accuracy": 50 / 53, "errors": 3, "neighbour_errors": 2,
                       "neighbour_share_of_errors": 2 / 3, "mean_error_distance": (2 * 1 + 5) / 3,
                       "errors_above_true": 3, "mean_signed_error": (2 * 1 + 5) / 53}
    assert question.top_confusions(counts, 2) == [(3, 4, 2), (4, 9, 1)]
    counts[6, 2] = 4  # four digits below
    assert question.error_summary(counts)["mean_signed_error"] == (2 + 5 - 16) / 57


def test_the_regressions_prediction_is_the_rounded_clipped_output():
    import scratch

    class Fixed:
        def predict(self, x):
            return np.array([[-0.7], [0.49], [3.5], [4.51], [12.0]])

    session = SimpleNamespace(no_grad=lambda: __import__("contextlib").nullcontext(), to_numpy=np.asarray,
                              backend=scratch)
    np.testing.assert_array_equal(question.predicted_digits(session, Fixed(), None, regression=True),
                                  [0, 0, 4, 5, 9])
