"""``questions.py hidden-activation``: the measured basis of each conclusion, on both backends.

One --quick run per backend (a module-scoped fixture); the tests read its JSON numbers. The layers
written in the question's module (step, identity) and the composed linear map are checked without MNIST.
"""
from types import SimpleNamespace

import numpy as np
import pytest

from toolkit.questions import hidden_activation as question
from .question_support import requires_mnist, run_question

HIDDEN_WEIGHTS = ["W1", "W2", "W3", "W4"]  # below the last step layer


@pytest.fixture(scope="module", params=["scratch", "torch"])
def run(request, tmp_path_factory):
    stdout, result = run_question("hidden-activation", tmp_path_factory.mktemp(f"hidden-activation-{request.param}"),
                                  backend=request.param)
    return SimpleNamespace(stdout=stdout, result=result, measured=result["measured"], backend=request.param)


@requires_mnist
def test_the_identity_network_composed_into_one_matrix_predicts_the_same_scores(run):
    linear = run.measured["identity_as_linear_map"]
    assert linear["relative_difference"] <= 1e-12
    assert linear["same_predictions"] == 1.0
    assert linear["matrix_shape"] == [784, 10]


@requires_mnist
def test_the_identity_networks_accuracy_equals_softmax_regressions(run):
    accuracy = run.measured["test_accuracy"]
    comparison = run.measured["identity_vs_softmax_regression"]
    assert comparison["tolerance"] == 0.02
    assert abs(accuracy["identity"] - accuracy["softmax regression"]) <= comparison["tolerance"]
    # ... while a nonlinear network is further above than twice that tolerance
    assert accuracy["relu"] - accuracy["identity"] > 2 * comparison["tolerance"]


@requires_mnist
def test_the_accuracy_is_the_last_checkpoints_and_the_fluctuation_is_measured_on_the_second_half(run):
    checkpoints = run.measured["test_accuracy_checkpoints"]
    assert checkpoints["iteration"] == list(range(100, 1001, 100))  # --quick: 1000 iterations
    for name, curve in checkpoints["test_accuracy"].items():
        assert curve[-1] == run.measured["test_accuracy"][name]
    identity = checkpoints["test_accuracy"]["identity"][5:]
    comparison = run.measured["identity_vs_softmax_regression"]
    assert comparison["identity_largest_change_between_checkpoints_second_half"] == max(
        abs(b - a) for a, b in zip(identity, identity[1:]))
    assert comparison["second_half_mean"]["identity"] == pytest.approx(np.mean(identity))


@requires_mnist
def test_step_passes_no_gradient_so_its_hidden_weights_never_change(run):
    change = run.measured["max_weight_change"]["step"]
    norms = run.measured["initial_gradient_norms"]["step"]
    assert all(change[w] == 0 for w in HIDDEN_WEIGHTS), change
    assert all(change[b] == 0 for b in ["b1", "b2", "b3", "b4"]), change
    assert all(norms[w] == 0 for w in HIDDEN_WEIGHTS), norms
    assert change["W5"] > 0 and norms["W5"] > 0  # the output layer learns
    assert run.measured["step_layer_minus_step_function"] == 0
    # every other activation moves every layer
    for name in ("identity", "sigmoid", "tanh", "relu"):
        assert min(run.measured["max_weight_change"][name][w] for w in HIDDEN_WEIGHTS) > 0, name


@requires_mnist
def test_sigmoids_gradient_shrinks_from_the_last_layer_to_the_first(run):
    norms = [run.measured["initial_gradient_norms"]["sigmoid"][f"W{k}"] for k in range(1, 6)]
    assert all(a < b for a, b in zip(norms, norms[1:])), norms
    relu = run.measured["initial_gradient_norms"]["relu"]
    assert norms[0] / norms[-1] < 0.05 < relu["W1"] / relu["W5"]


@requires_mnist
def test_sigmoids_first_over_last_gradient_falls_with_every_added_layer(run):
    sweep = run.measured["depth_sweep"]
    assert sweep["depths"] == list(range(2, 9))
    sigmoid = sweep["first_over_last_gradient_norm"]["sigmoid"]
    assert all(b < a for a, b in zip(sigmoid, sigmoid[1:])), sigmoid
    per_layer = (sigmoid[-1] / sigmoid[0]) ** (1 / (len(sigmoid) - 1))
    assert per_layer < 0.5  # sigmoid' <= 1/4: each layer divides the gradient by about 4
    for name in ("tanh", "relu"):
        assert min(sweep["first_over_last_gradient_norm"][name]) > 0.3, name


@requires_mnist
def test_tanh_and_relu_beat_the_linear_and_the_gradientless_networks(run):
    accuracy = run.measured["test_accuracy"]
    assert min(accuracy["tanh"], accuracy["relu"]) > accuracy["identity"] > accuracy["step"]


@requires_mnist
def test_every_conclusion_is_the_expected_one_on_quick(run):
    conclusions = run.result["conclusions"]
    assert set(conclusions) == {"identity_is_one_linear_map", "identity_matches_softmax_regression",
                                "step_passes_no_gradient", "sigmoid_gradients_shrink_with_depth",
                                "activation_is_not_arbitrary"}
    assert all(c["holds"] for c in conclusions.values()), conclusions
    assert "contrary" not in run.stdout


@requires_mnist
def test_the_figure_is_a_png(run):
    assert run.result["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# -- without MNIST: the module's own layers and the composed linear map --------------------------------

def fake_session(backend):
    import scratch

    if backend == "torch":
        import reference
        return SimpleNamespace(backend=reference, torch=True, to_numpy=lambda x: x.detach().numpy()
                               if hasattr(x, "detach") else np.asarray(x))
    return SimpleNamespace(backend=scratch, torch=False, to_numpy=np.asarray)


@pytest.mark.parametrize("backend", ["scratch", "torch"])
def test_compose_linear_map_equals_the_identity_networks_scores(backend):
    session = fake_session(backend)
    network = question.make_network(session, "identity", 3, seed=5, dtype="float64")
    rng = np.random.default_rng(0)
    params = {name: session.to_numpy(value).copy() for name, value in network.params.items()}
    for name in params:  # nonzero biases, so that c is tested too
        if name.startswith("b"):
            params[name] = rng.standard_normal(params[name].shape)
    network.load_params(params)
    x = rng.random((7, 784))
    M, c = question.compose_linear_map(params, 4)
    scores = session.to_numpy(network.predict(x))
    np.testing.assert_allclose(x @ M + c, scores, rtol=0, atol=1e-12 * np.abs(scores).max())
    # and a wrong composition (bias of the last layer dropped) is caught at that tolerance
    assert np.abs((x @ M + c - params["b4"]) - scores).max() > 1e-12 * np.abs(scores).max()


def test_the_numpy_step_layer_is_step_function_and_passes_zeros():
    import scratch

    layer = question.Step(scratch, torch=False)
    a = np.array([[-1.5, -0.0, 0.0, 1e-30, 2.0]], dtype=np.float32)
    np.testing.assert_array_equal(layer.forward(a), [[0, 0, 0, 1, 1]])
    dx = layer.backward(np.ones_like(a))
    assert dx.dtype == np.float32 and not dx.any()


def test_the_torch_step_layer_is_step_function_and_autograd_gives_exact_zeros():
    import torch

    import reference

    layer = question.Step(reference, torch=True)
    a = torch.tensor([[-1.5, -0.0, 0.0, 1e-30, 2.0]], dtype=torch.float64, requires_grad=True)
    out = layer.forward(a)
    assert torch.equal(out, reference.step_function(a.detach()))
    (grad,) = torch.autograd.grad((out * torch.arange(5.0, dtype=torch.float64)).sum(), a)
    assert torch.equal(grad, torch.zeros_like(a))


@pytest.mark.parametrize("backend", ["scratch", "torch"])
def test_the_same_seed_builds_the_same_networks(backend):
    session = fake_session(backend)
    for activation in question.ACTIVATIONS:
        first = question.make_network(session, activation, 2, seed=3)
        second = question.make_network(session, activation, 2, seed=3)
        for name in first.params:
            np.testing.assert_array_equal(session.to_numpy(first.params[name]), session.to_numpy(second.params[name]))
        kinds = [type(layer).__name__ for key, layer in first.layers.items() if key.startswith("Activation")]
        expected = {"step": "Step", "identity": "Identity", "sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}
        assert kinds == [expected[activation]] * 2
