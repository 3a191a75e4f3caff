"""backprop-vs-numerical: the two gradients train alike; the activation, not backpropagation, gives ReLU its lead.

One --quick run per backend; the tests read its JSON.
"""
from types import SimpleNamespace

import numpy as np
import pytest

from toolkit import questions
from toolkit.questions import backprop_vs_numerical as question
from toolkit.questions.session import Session
from .question_support import requires_mnist, run_question

BACKENDS = ("scratch", "torch")


@pytest.fixture(scope="module", params=BACKENDS)
def result(request, tmp_path_factory):
    _, result = run_question("backprop-vs-numerical", tmp_path_factory.mktemp(f"backprop-{request.param}"),
                             backend=request.param)
    return result


def measured(result, key):
    return result["measured"][key]


@requires_mnist
def test_the_two_gradients_trajectories_agree_far_below_the_activations_gap(result):
    loss_gap = abs(measured(result, "grid.relu.backprop.losses")[-1]
                   - measured(result, "grid.sigmoid.backprop.losses")[-1])
    accuracy_gap = (measured(result, "grid.relu.backprop.test_accuracy")
                    - measured(result, "grid.sigmoid.backprop.test_accuracy"))
    assert accuracy_gap > 0.1  # ReLU learns faster on the tiny network too
    for activation in question.ACTIVATIONS:
        numerical = measured(result, f"grid.{activation}.numerical.losses")
        backprop = measured(result, f"grid.{activation}.backprop.losses")
        assert numerical[0] == backprop[0]  # the same initial weights and minibatch
        assert np.max(np.abs(np.subtract(numerical, backprop))) < loss_gap / 10
        assert abs(measured(result, f"grid.{activation}.numerical.test_accuracy")
                   - measured(result, f"grid.{activation}.backprop.test_accuracy")) < accuracy_gap / 10


@requires_mnist
def test_smooth_sigmoid_agrees_to_1e_9_and_relu_parts_only_near_its_kink(result):
    assert measured(result, "grid.sigmoid.max_loss_difference") < 1e-9
    first = measured(result, "grid.relu.first_step_apart_by_1e-8")
    if first is not None:
        assert result["backend"] == "scratch"  # with torch both gradients are autograd: never apart
        assert measured(result, "grid.relu.smallest_preactivation_before_parting") < 1e-4  # closer than h


@requires_mnist
def test_with_torch_both_gradients_are_the_same_autograd_numbers(result):
    if result["backend"] != "torch":
        pytest.skip("scratch's numerical gradient is central differences")
    for activation in question.ACTIVATIONS:
        assert measured(result, f"grid.{activation}.max_loss_difference") < 1e-12


@requires_mnist
def test_relu_beats_sigmoid_with_backpropagation_for_both(result):
    sigmoid = measured(result, "book_run.sigmoid.final_test_accuracy")
    relu = measured(result, "book_run.relu.final_test_accuracy")
    assert 0.01 < relu - sigmoid < 0.06
    assert measured(result, "book_run.relu_minus_sigmoid_test_accuracy") == pytest.approx(relu - sigmoid)
    assert len(measured(result, "book_run.relu.losses")) == 2000
    # sigmoid's derivative is at most 1/4: its first gradient reaching W1 is smaller than ReLU's
    assert (measured(result, "book_run.sigmoid.initial_gradient_norms")["W1"]
            < measured(result, "book_run.relu.initial_gradient_norms")["W1"] / 2)
    assert np.mean(measured(result, "book_run.relu.losses")[-600:]) < np.mean(
        measured(result, "book_run.sigmoid.losses")[-600:])


@requires_mnist
def test_central_differences_cost_thousands_of_backprops(result):
    timings = measured(result, "seconds_per_gradient")
    ratio = timings["TwoLayerNet(49, 10, 10), 20 images"]["ratio"]
    if result["backend"] == "scratch":
        assert ratio > 100
    else:
        assert ratio < 3  # reference's numerical_gradient is one autograd pass


@requires_mnist
def test_every_conclusion_holds_and_the_figure_is_a_png(result):
    assert all(c["holds"] for c in result["conclusions"].values()), result["conclusions"]
    assert set(result["conclusions"]) == {"the_gradient_method_does_not_change_training",
                                          "the_activation_gives_the_gap", "backpropagation_is_faster"}
    assert result["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pooling_averages_4x4_blocks():
    images = np.arange(2 * 784, dtype=np.float64).reshape(2, 784)
    pooled = question.pooled(images)
    assert pooled.shape == (2, 49)
    assert pooled[0, 0] == np.mean(images[0].reshape(28, 28)[:4, :4])
    assert pooled[1, 48] == np.mean(images[1].reshape(28, 28)[24:, 24:])


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_same_seed_gives_the_same_trajectory_and_the_numerical_one_follows(backend, tmp_path):
    args = SimpleNamespace(quick=True, seed=5, backend=backend, threads=1, no_plot=True, plot=None, json=None,
                           markdown=None, no_progress=True, data_dir=None, download=False)
    session = Session(questions.find_question("backprop-vs-numerical"), args)
    x = np.random.default_rng(0).random((40, 6))
    t = np.arange(40) % 3

    def trajectory(method):
        network = session.backend.TwoLayerNet(6, 4, 3, weight_init_std="xavier", activation="sigmoid",
                                              dtype="float64", seed=5)
        return question.train(session, network, method, x, t, 5, 8, (1,), 0.5)

    first, second = trajectory("backprop"), trajectory("backprop")
    assert first == second
    assert np.max(np.abs(np.subtract(trajectory("numerical"), first))) < 1e-9
