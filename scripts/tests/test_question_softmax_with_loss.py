"""softmax-with-loss: appendix A's graph, each node's backward against autograd, the collapse to y - t.

The question runs once per backend (--quick); the tests recompute what the
appendix derives (softmax, the intermediate gradients -t_k/y_k, -S, 1/S, ...)
from the recorded forward values with NumPy and compare.
"""
import numpy as np
import pytest

from .question_support import run_question
from .script_support import assert_png

BACKENDS = ["scratch", "torch"]
TOLERANCE = 1e-12
NODES = {"Exp", "Sum", "Reciprocal", "Log", "Negate"}


@pytest.fixture(scope="module", params=BACKENDS)
def run(request, tmp_path_factory):
    return run_question("softmax-with-loss", tmp_path_factory.mktemp(f"softmax-{request.param}"),
                        backend=request.param)


def softmax(a):
    e = np.exp(np.asarray(a) - np.max(a))
    return e / e.sum()


def test_each_nodes_backward_equals_autograds(run):
    _, result = run
    errors = result["measured"]["local_backward_max_abs_error"]
    backend = "reference" if result["backend"] == "torch" else "scratch"
    assert set(errors) == NODES | {f"{backend}.MulLayer", f"{backend}.AddLayer"}
    assert max(errors.values()) <= TOLERANCE, errors
    assert result["measured"]["sum_vs_two_add_layers_max_abs_error"] <= TOLERANCE


def test_the_examples_gradient_is_softmax_minus_the_label(run):
    _, result = run
    example = result["measured"]["example"]
    a, t = np.array(example["a"]), np.array(example["t"])
    np.testing.assert_allclose(example["dL_da"], softmax(a) - t, rtol=0, atol=TOLERANCE)
    assert example["loss"] == pytest.approx(-np.log(softmax(a)[np.argmax(t)]), abs=TOLERANCE)
    assert max(example["max_abs_diff"].values()) <= TOLERANCE
    if result["backend"] == "torch":
        assert "vs_F_cross_entropy_autograd" in example["max_abs_diff"]


def test_every_edge_carries_the_appendixs_intermediate_results(run):
    _, result = run
    example = result["measured"]["example"]
    edges = {name: {key: np.array(value) for key, value in edge.items()} for name, edge in example["edges"].items()}
    a, t = np.array(example["a"]), np.array(example["t"])
    e = np.exp(a)
    S = e.sum()
    y = e / S
    close = dict(rtol=1e-12, atol=TOLERANCE)
    np.testing.assert_allclose(edges["exp_to_mul"]["forward"], e, **close)
    np.testing.assert_allclose(edges["S"]["forward"], S, **close)
    np.testing.assert_allclose(edges["r"]["forward"], 1 / S, **close)
    np.testing.assert_allclose(edges["y"]["forward"], y, **close)
    np.testing.assert_allclose(edges["log_y"]["backward"], -t, **close)
    np.testing.assert_allclose(edges["y"]["backward"], -t / y, **close)
    np.testing.assert_allclose(edges["r"]["backward"], -t * S, **close)
    np.testing.assert_allclose(edges["r_total"]["backward"], -S, **close)
    np.testing.assert_allclose(edges["S"]["backward"], 1 / S, **close)
    np.testing.assert_allclose(edges["exp_to_sum"]["backward"], np.full(3, 1 / S), **close)
    np.testing.assert_allclose(edges["exp_to_mul"]["backward"], -t / e, **close)
    np.testing.assert_allclose(edges["exp_total"]["backward"], 1 / S - t / e, **close)
    np.testing.assert_allclose(edges["t"]["backward"], -np.log(y), **close)


def test_random_samples_collapse_to_y_minus_t_and_agree_with_the_layer(run):
    _, result = run
    samples = result["measured"]["random_samples"]
    assert samples["count"] >= 50
    expected = {"vs_y_minus_t", "vs_SoftmaxWithLoss_backward", "loss_vs_SoftmaxWithLoss_forward",
                "loss_vs_cross_entropy_error"}
    if result["backend"] == "torch":
        expected |= {"vs_F_cross_entropy_autograd", "loss_vs_F_cross_entropy"}
    assert set(samples["max_abs_diff"]) == expected
    assert max(samples["max_abs_diff"].values()) <= TOLERANCE


def test_labels_that_do_not_sum_to_one_give_y_sum_t_minus_t(run):
    _, result = run
    a = np.array(result["measured"]["example"]["a"])
    for case in result["measured"]["labels_not_one_hot"]:
        t = np.array(case["t"])
        np.testing.assert_allclose(case["dL_da"], softmax(a) * t.sum() - t, rtol=0, atol=TOLERANCE)
        off = np.max(np.abs(np.array(case["dL_da"]) - (softmax(a) - t)))
        assert (off <= TOLERANCE) == (t.sum() == 1), (case["t"], off)


def test_every_conclusion_holds_and_the_figure_is_a_png(run):
    stdout, result = run
    assert all(conclusion["holds"] for conclusion in result["conclusions"].values()), result["conclusions"]
    assert set(result["conclusions"]) == {"local_backward", "collapses_to_y_minus_t", "needs_labels_summing_to_one"}
    assert "contrary" not in stdout
    assert_png(result["plot"])


def test_the_same_seed_gives_the_same_numbers(run, tmp_path):
    _, result = run
    _, again = run_question("softmax-with-loss", tmp_path, "--no-plot", backend=result["backend"])
    assert again["measured"] == result["measured"]
