"""``questions.py adam-bias-correction``: Adam with and without its bias correction, both backends.

``AdamVariant`` (the module's Adam with a switch) is checked in process
against each backend's ``Adam`` and against the closed form of a steady
gradient; one --quick run per backend (a module-scoped fixture) then gives the
numbers each conclusion stands on, read back from the --json file.
"""
import math

import numpy as np
import pytest

from toolkit.questions.adam_bias_correction import AdamVariant
from .question_support import requires_mnist, run_question
from .script_support import PNG_SIGNATURE

BETA1 = 0.9


def random_problem(torch, seed=0):
    """Parameters and 30 gradients (float64) as arrays or tensors."""
    rng = np.random.default_rng(seed)
    start = {"W": rng.normal(size=(5, 4)), "b": rng.normal(size=4)}
    grads = [{key: rng.normal(scale=10.0 ** rng.integers(-6, 2), size=value.shape) for key, value in start.items()}
             for _ in range(30)]
    if torch:
        import torch as th
        return ({key: th.tensor(value) for key, value in start.items()},
                [{key: th.tensor(value) for key, value in g.items()} for g in grads])
    return {key: value.copy() for key, value in start.items()}, grads


@pytest.mark.parametrize("backend_name", ["scratch", "torch"])
@pytest.mark.parametrize("beta2", [0.999, 0.9])
def test_the_corrected_variant_is_the_backends_adam_to_1e_12(backend_name, beta2):
    import importlib

    backend = importlib.import_module("reference" if backend_name == "torch" else "scratch")
    torch = backend_name == "torch"
    theirs, grads = random_problem(torch)
    ours, _ = random_problem(torch)
    adam, variant = backend.Adam(beta2=beta2), AdamVariant(beta2=beta2, torch=torch)
    for g in grads:
        adam.update(theirs, g)
        variant.update(ours, g)
    as_array = (lambda x: x.detach().numpy()) if torch else np.asarray  # noqa: E731
    start, _ = random_problem(False)
    for key in theirs:
        assert np.max(np.abs(as_array(theirs[key]) - start[key])) > 1e-3  # it moved
        np.testing.assert_allclose(as_array(ours[key]), as_array(theirs[key]), rtol=0, atol=1e-12)


@pytest.mark.parametrize("torch", [False, True])
@pytest.mark.parametrize("beta2", [0.999, 0.9])
def test_uncorrected_steps_of_a_steady_gradient_follow_the_closed_form(torch, beta2):
    """m = (1 - b1^t) g and v = (1 - b2^t) g^2, so with eps 0 the step is lr (1 - b1^t) / sqrt(1 - b2^t)."""
    g = np.array([1e-4, 0.5, -30.0])
    params, grads = {"w": np.zeros(3)}, {"w": g}
    if torch:
        import torch as th
        params, grads = {"w": th.zeros(3, dtype=th.float64)}, {"w": th.tensor(g)}
    optimizer = AdamVariant(lr=0.01, beta2=beta2, eps=0.0, bias_correction=False, torch=torch)
    position = np.zeros(3)
    for t in range(1, 101):
        optimizer.update(params, grads)
        now = (params["w"].numpy() if torch else params["w"]).copy()
        expected = 0.01 * (1 - BETA1 ** t) / math.sqrt(1 - beta2 ** t) * np.sign(g)
        np.testing.assert_allclose(position - now, expected, rtol=1e-12)
        position = now


@pytest.fixture(scope="module", params=["scratch", "torch"])
def result(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"adam-bias-correction-{request.param}")
    return run_question("adam-bias-correction", folder, backend=request.param)[1]


@requires_mnist
def test_the_corrected_variant_walks_with_the_backends_adam_on_mnist(result):
    found = result["measured"]["corrected_variant_against_backend_adam"]
    assert found["max_difference"] < 1e-12 and found["max_distance_moved"] > 1e-3


@requires_mnist
@pytest.mark.parametrize("beta2", [0.999, 0.9])
def test_the_first_step_ratio_is_1_minus_beta1_over_sqrt_1_minus_beta2(result, beta2):
    first = result["measured"]["first_step"][str(beta2)]
    closed_form = (1 - BETA1) / math.sqrt(1 - beta2)
    assert first["closed_form_ratio"] == pytest.approx(closed_form, rel=1e-15)
    assert first["eps0_max_relative_error_from_closed_form"] < 1e-12
    assert first["max_relative_error_from_formula_with_eps"] < 1e-12
    assert first["median_ratio"] == pytest.approx(closed_form, rel=1e-3)
    assert first["uncorrected_step_over_lr_median"] == pytest.approx(closed_form, rel=1e-3)


@requires_mnist
def test_the_corrected_first_step_is_lr_times_the_sign(result):
    first = result["measured"]["first_step"]["0.999"]
    assert first["corrected_step_over_lr_median"] == pytest.approx(1, abs=1e-4)
    assert first["fraction_corrected_step_within_1pct_of_lr"] > 0.99
    assert first["weights_with_zero_gradient"] > 0 and first["weights_with_zero_gradient_that_moved"] == 0
    assert first["fraction_book_step_below_099_lr"] > 10 * first["fraction_torch_step_below_099_lr"]


@requires_mnist
def test_m_starts_at_a_tenth_of_the_gradient_and_m_hat_at_the_gradient(result):
    measured = result["measured"]
    assert measured["m_over_g_at_1"] == pytest.approx(1 - BETA1, rel=1e-6)
    assert measured["m_hat_over_g_at_1"] == pytest.approx(1, rel=1e-6)
    watched = measured["mnist"]["watched"]["b2 0.999 corrected"]
    ten = next(w for w in watched if w["t"] == 10)
    assert ten["sqrt_v"] / ten["sqrt_v_hat"] == pytest.approx(math.sqrt(1 - 0.999 ** 10), rel=1e-6)


@requires_mnist
def test_uncorrected_early_steps_are_long_at_0_999_and_short_at_0_9(result):
    early = result["measured"]["early_steps"]
    assert early["0.999"]["largest_uncorrected_over_corrected_median_step_first_30"] > 3
    assert early["0.9"]["largest_uncorrected_over_corrected_median_step_first_30"] < 1.5
    watched = result["measured"]["mnist"]["watched"]
    for beta2 in ("0.999", "0.9"):
        first = [w for w in watched[f"b2 {beta2} uncorrected"] if w["t"] == 1][0]
        assert first["step_over_lr"] == pytest.approx((1 - BETA1) / math.sqrt(1 - float(beta2)), rel=1e-3)


@requires_mnist
def test_the_loss_conclusion_follows_the_early_losses(result):
    early = result["measured"]["mnist_uncorrected_minus_corrected_loss"]["first_100"]
    losses = result["measured"]["mnist"]["loss"]
    assert early["0.999"] == pytest.approx(np.mean(losses["b2 0.999 uncorrected"][:100])
                                           - np.mean(losses["b2 0.999 corrected"][:100]))
    assert result["conclusions"]["mnist_start"]["holds"] == (early["0.999"] < 0 < early["0.9"])
    assert early["0.999"] < 0 < early["0.9"]


@requires_mnist
def test_the_figure_is_a_png(result):
    assert result["plot"].read_bytes()[:8] == PNG_SIGNATURE
