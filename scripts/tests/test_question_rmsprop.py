"""``questions.py rmsprop``: AdaGrad's steps die out, RMSprop's do not, measured on both backends.

One --quick run per backend (a module-scoped fixture); the tests assert the
numbers each conclusion stands on, read back from the --json file.
"""
import math

import numpy as np
import pytest

from .question_support import requires_mnist, run_question
from .script_support import PNG_SIGNATURE

RHO = 0.99


@pytest.fixture(scope="module", params=["scratch", "torch"])
def result(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"rmsprop-{request.param}")
    return run_question("rmsprop", folder, backend=request.param)[1]


@requires_mnist
def test_a_steady_gradient_gives_adagrad_lr_over_sqrt_t_and_rmsprop_lr(result):
    steady = result["measured"]["constant_gradient"]
    assert max(steady["max_relative_error_from_formula"].values()) < steady["steps"] * 1e-15  # a t-term sum's rounding
    lr, t = steady["hyperparameters"]["AdaGrad"]["lr"], 1000
    adagrad, rmsprop = steady["step_at"]["AdaGrad"][str(t)], steady["step_at"]["RMSprop"][str(t)]
    # every gradient size from 1e-3 to 100 (eps, 1e-8 against |g| 1e-3, moves the smallest by 1e-5 at most)
    assert adagrad == pytest.approx([lr / math.sqrt(t)] * 3, rel=1e-4)
    assert rmsprop == pytest.approx([lr / math.sqrt(1 - RHO ** t)] * 3, rel=1e-4)
    assert steady["step_at"]["AdaGrad"]["1"] == pytest.approx([lr] * 3, rel=1e-4)
    assert steady["step_at"]["RMSprop"]["1"] == pytest.approx([lr / math.sqrt(1 - RHO)] * 3, rel=1e-4)
    assert adagrad[1] * math.sqrt(t) == pytest.approx(lr, rel=1e-10)  # |g| = 1: eps 1e-10 shifts it by 3e-12


@requires_mnist
def test_the_backends_rmsprop_walks_the_books_decay_rate(result):
    assert result["measured"]["rmsprop_against_book_max_difference"] < 1e-12
    assert result["conclusions"]["alpha_is_decay_rate"]["holds"]


@requires_mnist
def test_on_f_adagrads_rate_never_rises_and_rmsprops_rises_again(result):
    measured = result["measured"]
    rates = measured["paths_on_f"]["effective_rate_of_x_at"]
    assert rates["AdaGrad"]["1"] == pytest.approx(rates["RMSprop"]["1"], rel=1e-6)  # the same first step
    assert rates["AdaGrad"]["1"] == pytest.approx(1.5 / 0.7, rel=1e-6)  # lr / |df/dx| at (-7, 2): lr * sign(g)
    assert measured["paths_on_f_adagrad_rate_never_rises"] is True
    assert rates["AdaGrad"]["100"] < rates["AdaGrad"]["10"] < rates["AdaGrad"]["1"]
    assert measured["paths_on_f_rmsprop_rate_last_over_lowest"] > 1.2
    assert rates["RMSprop"]["100"] > rates["RMSprop"]["30"]
    for name in ("AdaGrad", "RMSprop"):
        assert max(abs(c) for c in measured["paths_on_f"]["point_at"][name]["100"]) < 1e-3  # both reach the minimum


@requires_mnist
def test_on_mnist_adagrads_h_grows_like_t_and_rmsprops_stays(result):
    summary = result["measured"]["mnist"]["summary"]
    ada, rms = summary["AdaGrad"], summary["RMSprop"]
    assert ada["h_growth_exponent_second_half"] > 0.5
    assert abs(rms["h_growth_exponent_second_half"]) < 0.5
    assert ada["rate_at_end"] / ada["rate_at_100"] < 0.75
    assert rms["rate_at_end"] / rms["rate_at_100"] > 0.8
    assert ada["h_at_end"] > 2 * ada["h_at_100"]
    rates = result["measured"]["mnist"]["median_rate"]["AdaGrad"]
    assert all(later <= earlier * (1 + 1e-6) for earlier, later in zip(rates, rates[1:]))  # h never shrinks


@requires_mnist
def test_the_mnist_loss_conclusion_cites_the_measured_means(result):
    summary = result["measured"]["mnist"]["summary"]
    holds = summary["RMSprop"]["mean_loss_last_100"] < summary["AdaGrad"]["mean_loss_last_100"]
    assert result["conclusions"]["mnist_loss"]["holds"] == holds
    assert f"{summary['AdaGrad']['mean_loss_last_100']:.4f}" in result["conclusions"]["mnist_loss"]["text"]
    losses = result["measured"]["mnist"]["loss"]
    assert np.mean(losses["AdaGrad"][-100:]) == pytest.approx(summary["AdaGrad"]["mean_loss_last_100"])
    assert losses["AdaGrad"][0] == pytest.approx(losses["RMSprop"][0], abs=0.05)  # same start, same first step


@requires_mnist
def test_the_figure_is_a_png(result):
    assert result["plot"].read_bytes()[:8] == PNG_SIGNATURE


@requires_mnist
def test_run_long_rmsprop_is_thrown_off_the_minimum_and_adagrad_is_not(result):
    farthest = result["measured"]["paths_on_f_long_walk_farthest_from_minimum_second_half"]
    assert farthest["RMSprop"] > 0.1  # lr * g / eps once h < eps^2
    assert farthest["AdaGrad"] < 1e-10
