"""``questions.py batchnorm-gamma-beta``: batch norm undoes itself, and what learning γ and β buys.

One --quick run per backend; the tests assert the measured basis of each
conclusion on its JSON numbers.
"""
from types import SimpleNamespace

import numpy as np
import pytest

from toolkit import questions
from toolkit.questions import batchnorm_gamma_beta as experiment
from toolkit.questions.session import Session
from .question_support import requires_mnist, run_question
from .script_support import PNG_SIGNATURE

BACKENDS = ["scratch", "torch"]
EXACT, INFERENCE = experiment.EXACT, experiment.INFERENCE


@pytest.fixture(scope="module", params=BACKENDS)
def run(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"batchnorm-{request.param}")
    return run_question("batchnorm-gamma-beta", folder, backend=request.param)


def _measured(run):
    return run[1]["measured"]


@requires_mnist
def test_gamma_sigma_beta_mu_returns_the_input_to_rounding(run):
    errors = _measured(run)["identity_max_abs_error"]
    assert errors[EXACT] < 1e-13 and errors[INFERENCE] < 1e-13
    assert 1e-8 < errors[experiment.FLOAT32] < 1e-4  # float32's rounding, not an identity to 1e-13
    assert run[1]["conclusions"]["batch_norm_undoes_itself"]["holds"]


@requires_mnist
def test_the_identity_needs_the_biased_variance_and_the_same_eps(run):
    errors = _measured(run)["identity_max_abs_error"]
    assert errors[experiment.UNBIASED] > 1e-3
    assert errors[experiment.NO_EPS] > 1e-6


@requires_mnist
def test_frozen_gamma_and_beta_stay_at_one_and_zero_and_learnt_ones_move(run):
    for activation, by_mode in _measured(run)["training"].items():
        for result in by_mode["frozen"]:
            assert np.all(np.array(result["gamma"]) == 1) and np.all(np.array(result["beta"]) == 0), activation
        for result in by_mode["learnt"]:
            assert np.ptp(np.array(result["gamma"])) > 0.1 and np.ptp(np.array(result["beta"])) > 0.1, activation


@requires_mnist
def test_learning_gamma_beta_helps_sigmoid_in_every_seed_and_relu_much_less(run):
    gains = _measured(run)["gain_of_learning_gamma_beta"]
    assert all(gain > 0 for gain in gains["sigmoid"]["per_seed"])
    assert gains["sigmoid"]["mean"] > 0.01 and gains["sigmoid"]["loss_ratio"] > 1.5
    assert abs(gains["relu"]["mean"]) < gains["sigmoid"]["mean"] / 2
    conclusions = run[1]["conclusions"]
    assert conclusions["sigmoid_needs_gamma_beta"]["holds"] and conclusions["relu_hardly_needs_gamma_beta"]["holds"]


@requires_mnist
def test_the_gains_are_the_accuracies_differences(run):
    training, gains = _measured(run)["training"], _measured(run)["gain_of_learning_gamma_beta"]
    for activation, by_mode in training.items():
        learnt = [r["test_accuracy"] for r in by_mode["learnt"]]
        frozen = [r["test_accuracy"] for r in by_mode["frozen"]]
        np.testing.assert_allclose(gains[activation]["per_seed"], np.subtract(learnt, frozen), atol=1e-12)


@requires_mnist
def test_sigmoid_learns_gamma_above_one(run):
    layers = _measured(run)["learnt_gamma_beta_per_layer"]["sigmoid"]["gamma"]
    assert np.mean([layer["mean"] for layer in layers]) > 1.1


@requires_mnist
def test_the_figure_is_a_png(run):
    assert run[1]["plot"].read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_identity_check_gives_the_same_numbers_for_the_same_seed(tmp_path, backend):
    def checks(seed):
        args = SimpleNamespace(quick=True, seed=seed, backend=backend, threads=1, no_plot=True, plot=None,
                               json=None, markdown=None, no_progress=True, data_dir=None, download=False)
        return experiment.identity_checks(Session(questions.find_question("batchnorm-gamma-beta"), args))

    assert checks(4) == checks(4)
    assert checks(4) != checks(5)


def test_frozen_training_hands_the_optimizer_no_gamma_or_beta():
    network = SimpleNamespace(params={"W1": 1, "b1": 2, "gamma1": 3, "beta1": 4, "W2": 5})
    assert set(experiment.trainable(network, "frozen")) == {"W1", "b1", "W2"}
    assert set(experiment.trainable(network, "learnt")) == set(network.params)
