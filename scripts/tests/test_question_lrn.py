"""``questions.py lrn``: what local response normalisation computes, and what it does in AlexNet.

The question runs once per backend with --quick; the tests assert the measured
basis of each conclusion on its JSON numbers, recomputing the formula here
independently of the question's hand computation.
"""
import numpy as np
import pytest

from toolkit.questions.lrn import ALEXNET, EXAMPLE, ILLUSTRATIVE, alexnet_variant
from .question_support import requires_mnist, run_question

BACKENDS = ("scratch", "torch")


@pytest.fixture(scope="module", params=BACKENDS)
def result(request, tmp_path_factory):
    _, result = run_question("lrn", tmp_path_factory.mktemp("lrn"), backend=request.param)
    return result


def pytorch_formula(a, size, alpha, beta, k):
    """b = a / (k + alpha/size * sum of squares over the zero-padded window)^beta, vectorised."""
    a = np.asarray(a, dtype=np.float64)
    padded = np.concatenate([np.zeros(size // 2), a ** 2, np.zeros((size - 1) // 2)])
    energy = np.array([padded[c:c + size].sum() for c in range(len(a))])
    return a / (k + alpha / size * energy) ** beta


@requires_mnist
@pytest.mark.parametrize("label, constants", [("illustrative", ILLUSTRATIVE), ("AlexNet", ALEXNET)])
def test_the_layer_is_the_formula(result, label, constants):
    measured = result["measured"]
    expected = pytorch_formula(EXAMPLE, **constants)
    np.testing.assert_allclose(measured[f"example_{label}_b_by_layer"], expected, rtol=1e-13, atol=0)
    np.testing.assert_allclose(measured[f"example_{label}_b_by_hand"], expected, rtol=1e-13, atol=0)
    assert measured[f"example_{label}_max_difference"] < 1e-12
    assert result["conclusions"]["formula_by_hand"]["holds"]


@requires_mnist
def test_a_strong_channel_inhibits_its_neighbours(result):
    measured = result["measured"]
    # alpha/n = 1, beta = 1/2: b = 1/sqrt(1 + 1 + 64 + 1) next to the 8, 1/sqrt(1 + 3) far, 1/sqrt(1 + 2) at the edge
    assert measured["example_neighbour_of_strong_b"] == pytest.approx(1 / np.sqrt(67), rel=1e-12)
    assert measured["example_far_from_strong_b"] == pytest.approx(0.5, rel=1e-12)
    assert measured["example_edge_b"] == pytest.approx(1 / np.sqrt(3), rel=1e-12)
    assert result["conclusions"]["neighbours_inhibit"]["holds"]


@requires_mnist
def test_alexnets_lrn_is_nearly_the_constant_k_to_the_minus_beta(result):
    measured = result["measured"]
    constant = ALEXNET["k"] ** -ALEXNET["beta"]
    assert measured["alexnet_lrn1_scale_of_k"] == pytest.approx(constant)
    quantiles = np.array(measured["alexnet_lrn1_scale_quantiles_0_1_50_99_100"])
    assert np.all(quantiles <= constant + 1e-7)  # d >= k: never more than the constant
    assert quantiles[1] > 0.99 * constant
    assert measured["alexnet_lrn_as_constant_share_of_predictions_changed"] < 0.005
    assert abs(measured["alexnet_lrn_as_constant_test_accuracy"] - measured["alexnet_lrn_test_accuracy"]) < 0.005
    assert result["conclusions"]["lrn_is_nearly_constant_here"]["holds"]
    # trained from the start with the constant in LRN's place: LRN's first loss, and closer to LRN's accuracy
    first_lrn = measured["alexnet_lrn_first_step_loss"]
    assert measured["alexnet_constant_k_minus_beta_first_step_loss"] == pytest.approx(first_lrn, rel=1e-3)
    assert measured["alexnet_no_lrn_first_step_loss"] > 1.5 * first_lrn  # scores 1/0.59^2 larger without it
    lrn_acc = measured["alexnet_lrn_test_accuracy"]
    assert (abs(measured["alexnet_constant_k_minus_beta_test_accuracy"] - lrn_acc)
            < abs(measured["alexnet_no_lrn_test_accuracy"] - lrn_acc))
    assert result["conclusions"]["lrn_training_is_its_constant_factor"]["holds"]


@requires_mnist
def test_the_three_alexnets_learn_and_lrn_takes_time(result):
    measured = result["measured"]
    for variant in ("lrn", "no_lrn", "constant_k_minus_beta", "batch_norm"):
        assert measured[f"alexnet_{variant}_test_accuracy"] > 0.5, variant  # 60 steps: far above 0.1
        assert measured[f"alexnet_{variant}_ms_per_step"] > 0
    assert measured["lrn_share_of_step"] == pytest.approx(
        measured["lrn_layers_forward_backward_ms"] / measured["alexnet_lrn_ms_per_step"])
    assert measured["lrn_share_of_step"] > 0.05
    assert result["conclusions"]["lrn_costs_time"]["holds"]


@requires_mnist
def test_the_figure_is_a_png(result):
    assert result["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class Session:
    """What ``alexnet_variant`` reads of a session (NumPy backend, seed 0)."""

    def __init__(self):
        import scratch
        self.backend, self.torch, self.seed = scratch, False, 0


def test_the_variants_are_alexnets_layers_with_lrn_removed_or_replaced():
    session = Session()
    lrn, none, constant, batch_norm = (alexnet_variant(session, v)
                                       for v in ("LRN", "no LRN", "constant k^-beta", "batch norm"))
    assert [constant.layers[name].alpha for name in ("LRN1", "LRN2")] == [0, 0]
    assert constant.params.keys() == lrn.params.keys()
    assert [name for name in lrn.layers if name.startswith("LRN")] == ["LRN1", "LRN2"]
    assert [name for name in none.layers] == [name for name in lrn.layers if not name.startswith("LRN")]
    assert list(batch_norm.layers)[:4] == ["Conv1", "Relu1", "BatchNorm1", "Pool1"]
    assert set(batch_norm.params) == set(lrn.params) | {"gamma1", "beta1", "gamma2", "beta2"}
    assert batch_norm.params["gamma1"].shape == (32,) and batch_norm.params["gamma2"].shape == (64,)
    for name in lrn.params:  # the same initial weights
        np.testing.assert_array_equal(lrn.params[name], batch_norm.params[name])
    images = np.random.default_rng(0).random((4, 1, 28, 28)).astype(np.float32)
    grads = batch_norm.gradient(images, np.array([0, 1, 2, 3]))
    assert set(grads) == set(batch_norm.params)
    assert all(grads[name].shape == batch_norm.params[name].shape for name in grads)
    assert np.abs(grads["gamma1"]).sum() > 0
