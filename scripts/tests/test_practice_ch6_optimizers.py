"""Chapter 6.1's practice tasks (the optimizers): the project's own solutions pass, each mistake is named.

``ch6_optimizers.TASKS`` holds them; chapter 6's registry (``tasks/ch6.py``) puts them before Dropout.
"""
import pytest

from toolkit.practice.tasks.ch6_optimizers import TASKS
from .practice_support import failure_of, grade_source, mistake_named, passes, solution_source

TASK = {task.name: task for task in TASKS}


def test_the_tasks_in_the_books_order():
    assert [task.name for task in TASKS] == ["sgd", "momentum", "adagrad", "rmsprop", "adam"]
    assert all(task.chapter == 6 and task.section.startswith("6.1") for task in TASKS)


@pytest.mark.parametrize("name", list(TASK))
@pytest.mark.parametrize("semantics", ["book", "pytorch"])
def test_the_projects_own_solution_passes(tmp_path, name, semantics):
    verdicts = grade_source(name, solution_source(name, semantics), tmp_path, semantics)
    assert passes(verdicts, name), [(v.check, v.failure.message) for v in verdicts if not v.ok]


@pytest.mark.parametrize("name", list(TASK))
def test_a_fresh_skeleton_fails_with_not_written_yet(tmp_path, name):
    verdicts = grade_source(name, TASK[name].skeleton, tmp_path)
    assert "not written yet" in failure_of(verdicts).message


# ---------------------------------------------------------------------------
# Correct hand-written implementations
# ---------------------------------------------------------------------------

GOOD = {
    "sgd": """
        class SGD:
            def __init__(self, lr=0.01):
                self.lr = lr

            def update(self, params, grads):
                for key in params:
                    params[key] -= self.lr * grads[key]
    """,
    "momentum": """
        import numpy as np

        class Momentum:
            def __init__(self, lr=0.01, momentum=0.9):
                self.lr, self.momentum, self.v = lr, momentum, None

            def update(self, params, grads):
                if self.v is None:
                    self.v = {key: np.zeros_like(value) for key, value in params.items()}
                for key in params:
                    self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
                    params[key] += self.v[key]
    """,
    "adagrad": """
        import numpy as np

        class AdaGrad:
            def __init__(self, lr=0.01):
                self.lr, self.h = lr, None

            def update(self, params, grads):
                if self.h is None:
                    self.h = {key: np.zeros_like(value) for key, value in params.items()}
                for key in params:
                    self.h[key] += grads[key] ** 2
                    params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
    """,
    "rmsprop": """
        import numpy as np

        class RMSprop:
            def __init__(self, lr=0.01, decay_rate=0.99):
                self.lr, self.decay_rate, self.h = lr, decay_rate, None

            def update(self, params, grads):
                if self.h is None:
                    self.h = {key: np.zeros_like(value) for key, value in params.items()}
                for key in params:
                    self.h[key] = self.decay_rate * self.h[key] + (1 - self.decay_rate) * grads[key] ** 2
                    params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
    """,
    "adam": """
        import numpy as np

        class Adam:
            def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
                self.lr, self.beta1, self.beta2 = lr, beta1, beta2
                self.iter, self.m, self.v = 0, None, None

            def update(self, params, grads):
                if self.m is None:
                    self.m = {key: np.zeros_like(value) for key, value in params.items()}
                    self.v = {key: np.zeros_like(value) for key, value in params.items()}
                self.iter += 1
                lr_t = self.lr * np.sqrt(1 - self.beta2 ** self.iter) / (1 - self.beta1 ** self.iter)
                for key in params:
                    self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]
                    self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grads[key] ** 2
                    params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)
    """,
}

TORCH_MOMENTUM = """
    class Momentum:
        def __init__(self, lr=0.01, momentum=0.9):
            self.lr, self.momentum, self.v = lr, momentum, None

        def update(self, params, grads):
            if self.v is None:
                self.v = {key: grads[key].copy() for key in params}
            else:
                for key in params:
                    self.v[key] = self.momentum * self.v[key] + grads[key]
            for key in params:
                params[key] -= self.lr * self.v[key]
"""

TORCH_ADAM = """
    import numpy as np

    class Adam:
        def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
            self.lr, self.beta1, self.beta2 = lr, beta1, beta2
            self.iter, self.m, self.v = 0, None, None

        def update(self, params, grads):
            if self.m is None:
                self.m = {key: np.zeros_like(value) for key, value in params.items()}
                self.v = {key: np.zeros_like(value) for key, value in params.items()}
            self.iter += 1
            for key in params:
                self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]
                self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grads[key] ** 2
                m_hat = self.m[key] / (1 - self.beta1 ** self.iter)
                v_hat = self.v[key] / (1 - self.beta2 ** self.iter)
                params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)
"""


@pytest.mark.parametrize("name", list(GOOD))
def test_a_correct_book_style_implementation_passes(tmp_path, name):
    verdicts = grade_source(name, GOOD[name], tmp_path)
    assert passes(verdicts, name), [(v.check, v.failure.message) for v in verdicts if not v.ok]


@pytest.mark.parametrize("name, source", [
    ("sgd", GOOD["sgd"]),
    ("momentum", TORCH_MOMENTUM),
    ("adagrad", GOOD["adagrad"].replace("1e-7", "1e-10")),
    ("rmsprop", GOOD["rmsprop"].replace("1e-7", "1e-8")),
    ("adam", TORCH_ADAM),
])
def test_a_correct_pytorch_style_implementation_passes_with_pytorch_semantics(tmp_path, name, source):
    verdicts = grade_source(name, source, tmp_path, "pytorch")
    assert passes(verdicts, name), [(v.check, v.failure.message) for v in verdicts if not v.ok]


# ---------------------------------------------------------------------------
# Mistakes
# ---------------------------------------------------------------------------

def wrong(name, old, new):
    """GOOD[name] with ``old`` replaced by ``new`` (which must be there)."""
    assert old in GOOD[name], old
    return GOOD[name].replace(old, new)


MOMENTUM_BOOK_SAYS_TORCH = "Momentum with PyTorch's convention (lr outside the velocity)"
MOMENTUM_TORCH_SAYS_BOOK = "Momentum with the book's convention (lr inside the velocity)"


def test_momentum_with_pytorchs_convention_when_the_books_was_asked(tmp_path):
    verdicts = grade_source("momentum", TORCH_MOMENTUM, tmp_path)
    assert verdicts[0].ok, "at a constant lr the conventions walk the same path"
    assert mistake_named(verdicts) == MOMENTUM_BOOK_SAYS_TORCH
    failure = failure_of(verdicts)
    assert "lr changed" in [v for v in verdicts if not v.ok][0].check and "torch.optim.SGD" in failure.mistake.why


def test_momentum_with_the_books_convention_when_pytorchs_was_asked(tmp_path):
    verdicts = grade_source("momentum", GOOD["momentum"], tmp_path, "pytorch")
    assert mistake_named(verdicts) == MOMENTUM_TORCH_SAYS_BOOK
    verdicts = grade_source("momentum", solution_source("momentum", "book"), tmp_path, "pytorch")
    assert mistake_named(verdicts) == MOMENTUM_TORCH_SAYS_BOOK


def test_adam_without_bias_correction(tmp_path):
    source = wrong("adam", "lr_t = self.lr * np.sqrt(1 - self.beta2 ** self.iter) / (1 - self.beta1 ** self.iter)",
                   "lr_t = self.lr")
    assert mistake_named(grade_source("adam", source, tmp_path)) == "Adam without bias correction"
    source = TORCH_ADAM.replace("/ (1 - self.beta1 ** self.iter)", "").replace("/ (1 - self.beta2 ** self.iter)", "")
    assert mistake_named(grade_source("adam", source, tmp_path, "pytorch")) == "Adam without bias correction"


def test_adam_with_the_other_conventions_eps_placement(tmp_path):
    verdicts = grade_source("adam", TORCH_ADAM, tmp_path)
    assert mistake_named(verdicts) == "Adam with PyTorch's eps placement (after the bias correction)"
    verdicts = grade_source("adam", GOOD["adam"], tmp_path, "pytorch")
    assert mistake_named(verdicts) == "Adam with the book's eps placement (before the bias correction)"


def test_adam_step_count_advanced_per_parameter(tmp_path):
    source = wrong("adam", """
                self.iter += 1
                lr_t = self.lr * np.sqrt(1 - self.beta2 ** self.iter) / (1 - self.beta1 ** self.iter)
                for key in params:
""", """
                for key in params:
                    self.iter += 1
                    lr_t = self.lr * np.sqrt(1 - self.beta2 ** self.iter) / (1 - self.beta1 ** self.iter)
""")
    assert mistake_named(grade_source("adam", source, tmp_path)) == "Adam's step count advanced per parameter"


@pytest.mark.parametrize("name, old, new", [
    ("adagrad", "(np.sqrt(self.h[key]) + 1e-7)", "np.sqrt(self.h[key] + 1e-7)"),
    ("rmsprop", "(np.sqrt(self.h[key]) + 1e-7)", "np.sqrt(self.h[key] + 1e-7)"),
])
def test_eps_inside_the_square_root(tmp_path, name, old, new):
    assert mistake_named(grade_source(name, wrong(name, old, new), tmp_path)) == "eps inside the square root"


@pytest.mark.parametrize("name", ["adagrad", "rmsprop"])
def test_eps_missing(tmp_path, name):
    source = wrong(name, "(np.sqrt(self.h[key]) + 1e-7)", "np.sqrt(self.h[key])")
    assert mistake_named(grade_source(name, source, tmp_path)) == "eps missing"


def test_rmsprop_decay_rate_on_the_wrong_term(tmp_path):
    source = wrong("rmsprop", "self.decay_rate * self.h[key] + (1 - self.decay_rate)",
                   "(1 - self.decay_rate) * self.h[key] + self.decay_rate")
    assert mistake_named(grade_source("rmsprop", source, tmp_path)) == "decay_rate on the wrong term"


def test_sgd_moving_up_the_gradient(tmp_path):
    source = wrong("sgd", "params[key] -= self.lr", "params[key] += self.lr")
    assert mistake_named(grade_source("sgd", source, tmp_path)) == "moved up the gradient"


@pytest.mark.parametrize("name, old, new", [
    ("sgd", "params[key] -= self.lr * grads[key]", "params[key] = params[key] - self.lr * grads[key]"),
    ("momentum", "params[key] += self.v[key]", "params[key] = params[key] + self.v[key]"),
    ("adam", "params[key] -= lr_t", "params[key] = params[key] - lr_t"),
    ("sgd", "for key in params:\n                    params[key] -= self.lr * grads[key]",
     "return {key: params[key] - self.lr * grads[key] for key in params}"),
])
def test_parameters_not_updated_in_place(tmp_path, name, old, new):
    verdicts = grade_source(name, wrong(name, old, new), tmp_path)
    assert mistake_named(verdicts) == "parameters not updated in place"


def test_gradients_changed_in_place(tmp_path):
    source = wrong("sgd", "params[key] -= self.lr * grads[key]", "grads[key] *= self.lr\n"
                   "                    params[key] -= grads[key]")
    assert mistake_named(grade_source("sgd", source, tmp_path)) == "gradients changed in place"


SHARED_STATE = {
    # one velocity for every key: W (2, 3) and b (3,) cannot share it (a broadcast error)
    "momentum": """
        class Momentum:
            def __init__(self, lr=0.01, momentum=0.9):
                self.lr, self.momentum, self.v = lr, momentum, 0.0

            def update(self, params, grads):
                for key in params:
                    self.v = self.momentum * self.v - self.lr * grads[key]
                    params[key] += self.v
    """,
    # state keyed by shape: fine for W and b, shared by W1 and W2 of the same shape
    "adagrad": """
        import numpy as np

        class AdaGrad:
            def __init__(self, lr=0.01):
                self.lr, self.h = lr, {}

            def update(self, params, grads):
                for key in params:
                    h = self.h.setdefault(params[key].shape, np.zeros_like(params[key]))
                    h += grads[key] ** 2
                    params[key] -= self.lr * grads[key] / (np.sqrt(h) + 1e-7)
    """,
}


@pytest.mark.parametrize("name", list(SHARED_STATE))
def test_state_shared_across_parameters(tmp_path, name):
    verdicts = grade_source(name, SHARED_STATE[name], tmp_path)
    assert mistake_named(verdicts) == "state shared across parameters"
    failed = [v for v in verdicts if not v.ok][0]
    assert ("update" in failed.failure.message) if name == "momentum" else ("W1 and W2" in failed.check)


@pytest.mark.parametrize("name, old, new", [
    ("momentum", "if self.v is None:", "if True:"),
    ("adagrad", "if self.h is None:", "if True:"),
    ("adam", "if self.m is None:", "self.iter = 0\n                if True:"),
])
def test_state_re_created_at_every_update(tmp_path, name, old, new):
    assert mistake_named(grade_source(name, wrong(name, old, new), tmp_path)) == "state re-created at every update"


def test_the_torch_check_compares_with_torch_optim(tmp_path, monkeypatch):
    """The torch check fails when torch.optim's numbers differ (here: torch.optim.Adam run with beta1 0.8)."""
    import torch

    real = torch.optim.Adam
    monkeypatch.setattr(torch.optim, "Adam", lambda params, **kw: real(params, **{**kw, "betas": (0.8, 0.999)}))
    verdicts = grade_source("adam", GOOD["adam"], tmp_path)
    failed = [v for v in verdicts if not v.ok]
    assert failed and "torch.optim" in failed[0].check


@pytest.mark.parametrize("name, semantics, named", [
    ("momentum", "book", MOMENTUM_BOOK_SAYS_TORCH),
    ("momentum", "pytorch", MOMENTUM_TORCH_SAYS_BOOK),
    ("adagrad", "book", "torch.optim's eps where the book's was asked"),
    ("adagrad", "pytorch", "the book's eps where torch.optim's was asked"),
    ("rmsprop", "book", "torch.optim's eps where the book's was asked"),
    ("rmsprop", "pytorch", "the book's eps where torch.optim's was asked"),
    ("adam", "book", "Adam with PyTorch's eps placement (after the bias correction)"),
    ("adam", "pytorch", "Adam with the book's eps placement (before the bias correction)"),
])
def test_the_other_semantics_solution_fails(tmp_path, name, semantics, named):
    """scratch's optimizer graded as the book's (and the reverse) fails: the two semantics really differ."""
    other = "pytorch" if semantics == "book" else "book"
    verdicts = grade_source(name, solution_source(name, other), tmp_path, semantics)
    assert mistake_named(verdicts) == named
