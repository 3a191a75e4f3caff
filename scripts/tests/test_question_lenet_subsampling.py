"""``questions.py lenet-subsampling``: LeNet's subsampling is deterministic, stochastic pooling is not.

The question runs once per backend with --quick; the tests assert the measured
basis of each conclusion on its JSON numbers. The stochastic pooling layers the
question defines are checked directly: the NumPy one against the torch one
(forward and autograd's backward) on the same draws.
"""
import numpy as np
import pytest

from toolkit.questions.lenet_subsampling import StochasticPooling, TorchStochasticPooling
from .question_support import requires_mnist, run_question

BACKENDS = ("scratch", "torch")
POOLINGS = ("subsampling", "max", "average", "stochastic")


@pytest.fixture(scope="module", params=BACKENDS)
def result(request, tmp_path_factory):
    _, result = run_question("lenet-subsampling", tmp_path_factory.mktemp("lenet-subsampling"),
                             backend=request.param)
    return result


@requires_mnist
def test_subsampling_twice_is_bit_identical_and_is_the_formula(result):
    measured = result["measured"]
    assert measured["subsampling_identical_twice"] is True
    assert measured["subsampling_max_difference_between_calls"] == 0
    assert measured["subsampling_max_difference_from_hand"] < 1e-6  # float32 layer against float64 by hand
    # the trained coefficient and bias are not the initial 1 and 0: the check used trained values
    assert not np.allclose(measured["subsampling_trained_coefficients"], 1)
    assert not np.allclose(measured["subsampling_trained_biases"], 0)
    assert result["conclusions"]["subsampling_is_deterministic"]["holds"]


@requires_mnist
def test_only_stochastic_pooling_in_training_changes_between_calls(result):
    measured = result["measured"]
    assert measured["share_changed_between_calls_subsampling"] == 0
    assert measured["share_changed_between_calls_max"] == 0
    assert measured["share_changed_between_calls_stochastic_test"] == 0
    assert measured["share_changed_between_calls_stochastic_training"] > 0.05
    # only a window with two or more positive activations has a choice to make
    assert (measured["share_changed_between_calls_stochastic_training"]
            <= measured["stochastic_share_of_windows_with_two_or_more_positive"])
    assert result["conclusions"]["stochastic_pooling_is_random"]["holds"]


@requires_mnist
def test_stochastic_pooling_picks_each_element_with_its_probability(result):
    measured = result["measured"]
    window = np.array(measured["stochastic_window"])
    probabilities = np.array(measured["stochastic_probabilities"])
    frequencies = np.array(measured["stochastic_frequencies"])
    np.testing.assert_allclose(probabilities, window / window.sum(), rtol=1e-6)
    assert frequencies[window == 0].max() == 0  # a zero activation is never drawn
    assert np.abs(frequencies - probabilities).max() < 0.02  # 20000 draws: the standard error is below 0.004
    assert measured["stochastic_test_output"] == pytest.approx(float(np.sum(window * window) / window.sum()),
                                                               abs=1e-6)


@requires_mnist
def test_every_pooling_learns_with_the_same_budget(result):
    measured = result["measured"]
    accuracies = {pooling: measured[f"relu_{pooling}_test_accuracy"] for pooling in POOLINGS}
    assert min(accuracies.values()) > 0.85, accuracies
    assert measured["lenet_tanh_subsampling_test_accuracy"] > 0.85
    assert measured["relu_accuracy_spread"] == pytest.approx(max(accuracies.values()) - min(accuracies.values()))
    # subsampling's coefficient and bias: 2 x (6 + 16) more parameters than the plain poolings
    for pooling in ("max", "average", "stochastic"):
        assert measured["relu_subsampling_parameters"] - measured[f"relu_{pooling}_parameters"] == 44
    assert measured["lenet_tanh_subsampling_parameters"] == measured["relu_subsampling_parameters"]


@requires_mnist
def test_the_figure_is_a_png(result):
    assert result["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- the stochastic pooling layers themselves ---------------------------------------------------------------

def _activations(seed=0):
    x = np.random.default_rng(seed).random((3, 2, 5, 6)).astype(np.float64)
    x[x < 0.4] = 0  # ReLU-like: zeros, and some all-zero windows
    x[0, 0, :2, :2] = 0
    return x


def test_numpy_and_torch_stochastic_pooling_draw_alike_and_agree_on_the_gradient():
    torch = pytest.importorskip("torch")
    x = _activations()
    dout = np.random.default_rng(1).standard_normal((3, 2, 2, 3))
    numpy_layer = StochasticPooling(2, np.random.default_rng(7))
    torch_layer = TorchStochasticPooling(2, np.random.default_rng(7))
    out = numpy_layer.forward(x, train_flg=True)
    dx = numpy_layer.backward(dout)
    x_t = torch.tensor(x, requires_grad=True)
    out_t = torch_layer.forward(x_t, train_flg=True)
    (dx_t,) = torch.autograd.grad(out_t, x_t, torch.tensor(dout))
    np.testing.assert_array_equal(out, out_t.detach().numpy())
    np.testing.assert_array_equal(dx, dx_t.numpy())
    assert out[0, 0, 0, 0] == 0  # an all-zero window gives 0
    # every output is one element of its window, and the gradient goes to exactly one element per window
    assert np.count_nonzero(dx[:, :, :4, :6]) == np.count_nonzero(dout)
    assert np.all(dx[:, :, 4] == 0)  # the fifth row fills no window


def test_stochastic_pooling_at_test_time_is_the_probability_weighted_average():
    x = _activations()
    out = StochasticPooling(2, np.random.default_rng(0)).forward(x, train_flg=False)
    window = x[1, 1, 2:4, 2:4]
    assert out[1, 1, 1, 1] == pytest.approx(np.sum(window ** 2) / np.sum(window))
    assert out[0, 0, 0, 0] == 0


def test_the_same_generator_seed_draws_the_same_and_another_seed_does_not():
    x = _activations()
    first = StochasticPooling(2, np.random.default_rng(3)).forward(x, train_flg=True)
    again = StochasticPooling(2, np.random.default_rng(3)).forward(x, train_flg=True)
    other = StochasticPooling(2, np.random.default_rng(4)).forward(x, train_flg=True)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_stochastic_pooling_refuses_negative_inputs_in_one_line():
    with pytest.raises(ValueError, match="non-negative inputs .*after a ReLU") as err:
        StochasticPooling(2, np.random.default_rng(0)).forward(-_activations() - 0.5, train_flg=True)
    assert "\n" not in str(err.value)
