"""``questions.py hyperparameter-search``: random against grid search with the same number of trials.

One --quick run per backend; the tests assert the measured basis of each
conclusion on its JSON numbers.
"""
import numpy as np
import pytest

from toolkit.questions import hyperparameter_search as experiment
from .question_support import requires_mnist, run_question
from .script_support import PNG_SIGNATURE

BACKENDS = ["scratch", "torch"]


@pytest.fixture(scope="module", params=BACKENDS)
def run(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"hyperparameter-search-{request.param}")
    return run_question("hyperparameter-search", folder, backend=request.param)


def _measured(run):
    return run[1]["measured"]


@requires_mnist
def test_validation_data_come_from_the_training_images_never_the_test_images(run):
    setup = _measured(run)["setup"]
    assert setup["train_images"] + setup["validation_images"] == experiment.TRAIN_SIZE
    assert setup["validation_images"] == int(experiment.TRAIN_SIZE * experiment.VALIDATION_RATE)
    assert setup["test_images_used"] == 0


@requires_mnist
def test_a_k_by_k_grid_tries_k_learning_rates_and_random_search_k_squared(run):
    for name, c in _measured(run)["comparison"].items():
        k = c["grid_side"]
        assert name.startswith(f"{k}x{k}") and c["trials"] == k * k
        assert c["grid_distinct_lr"] == k and c["random_distinct_lr"] == k * k
    for result in _measured(run)["runs"]:
        lrs = np.array([lr for lr, _ in result["random_trials"]])
        wds = np.array([wd for _, wd in result["random_trials"]])
        assert np.all((lrs >= 1e-6) & (lrs <= 1e-2)) and np.all((wds >= 1e-8) & (wds <= 1e-4))


@requires_mnist
def test_the_learning_rate_moves_the_accuracy_far_more_than_the_weight_decay(run):
    sensitivity = _measured(run)["sensitivity"]
    assert np.mean(sensitivity["accuracy_range_along_lr"]) > 5 * np.mean(
        sensitivity["accuracy_range_along_weight_decay"])
    assert run[1]["conclusions"]["lr_matters_more"]["holds"]


@requires_mnist
def test_random_search_finds_more_than_the_cell_centred_grid_with_the_same_trials(run):
    c = _measured(run)["comparison"]["3x3"]
    assert c["random_best_mean"] > c["grid_best_mean"] and c["random_wins"] > c["grid_wins"]
    assert run[1]["conclusions"]["random_beats_grid"]["holds"]


@requires_mnist
def test_the_grid_that_tries_the_ranges_end_does_as_well_as_random(run):
    c = _measured(run)["comparison"]["3x3 end points"]
    assert c["grid_best_mean"] >= c["random_best_mean"]
    for result in _measured(run)["runs"]:  # its best trial is one at lr = 1e-2, the range's upper end
        best = int(np.argmax(result["end_point_grid_scores"]))
        assert experiment.grid_trials(3, end_points=True)[best][0] == pytest.approx(1e-2)
    assert run[1]["conclusions"]["end_point_grid_hits_the_best_lr"]["holds"]


@requires_mnist
def test_best_so_far_and_grid_best_are_what_the_trials_scored(run):
    for result in _measured(run)["runs"]:
        scores = np.array(result["random_scores"])
        np.testing.assert_array_equal(result["random_best_so_far"], np.maximum.accumulate(scores))
        for k, grid_scores in result["grid_scores"].items():
            assert len(grid_scores) == int(k) ** 2 and result["grid_best"][k] == max(grid_scores)
        assert result["end_point_grid_best"] == max(result["end_point_grid_scores"])


@requires_mnist
def test_the_figure_is_a_png(run):
    assert run[1]["plot"].read_bytes()[:8] == PNG_SIGNATURE


def test_the_grid_sits_at_cell_centres_on_a_log_scale():
    np.testing.assert_allclose(np.log10(experiment.grid_values((-6, -2), 2)), [-5, -3], atol=1e-12)
    np.testing.assert_allclose(np.log10(experiment.grid_values((-6, -2), 3, end_points=True)), [-6, -4, -2])
    trials = experiment.grid_trials(3)
    assert len(trials) == 9 and len({lr for lr, _ in trials}) == 3 and len({wd for _, wd in trials}) == 3


def test_the_same_seed_draws_the_same_trials():
    def draws(seed):
        return experiment.random_trials(5, np.random.default_rng(seed))

    assert draws(1) == draws(1) and draws(1) != draws(2)
    assert len({lr for lr, _ in draws(1)}) == 5
