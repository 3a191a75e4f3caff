"""Practice tasks of chapter 6 (Dropout, BatchNormalization): the project's own and hand-written solutions pass,
a fresh skeleton is "not written yet", and each classic mistake is named."""
import pytest

from toolkit.practice.tasks import find_task
from .practice_support import failure_of, grade_source, mistake_named, passes, solution_source

SEMANTICS = ("book", "pytorch")

GOOD_DROPOUT = {
    "book": """
        import numpy as np

        class Dropout:
            def __init__(self, dropout_ratio=0.5):
                self.dropout_ratio = dropout_ratio
                self.mask = None

            def forward(self, x, train_flg=True):
                if train_flg:
                    self.mask = np.random.rand(*x.shape) > self.dropout_ratio
                    return x * self.mask
                return x * (1.0 - self.dropout_ratio)

            def backward(self, dout):
                return dout * self.mask
    """,
    "pytorch": """
        import numpy as np

        class Dropout:
            def __init__(self, dropout_ratio=0.5):
                self.dropout_ratio = dropout_ratio
                self.mask = None

            def forward(self, x, train_flg=True):
                if train_flg:
                    self.mask = np.random.default_rng().random(x.shape) >= self.dropout_ratio
                    return x * self.mask / (1.0 - self.dropout_ratio)
                return x

            def backward(self, dout):
                return dout * self.mask / (1.0 - self.dropout_ratio)
    """,
}

GOOD_BATCH_NORMALIZATION = {
    "book": """
        import numpy as np

        class BatchNormalization:
            def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
                self.gamma, self.beta, self.momentum = gamma, beta, momentum
                self.running_mean, self.running_var = running_mean, running_var

            def forward(self, x, train_flg=True):
                if self.running_mean is None:
                    self.running_mean = np.zeros(x.shape[1])
                    self.running_var = np.zeros(x.shape[1])
                if train_flg:
                    mu = x.mean(axis=0)
                    xc = x - mu
                    var = np.mean(xc ** 2, axis=0)
                    std = np.sqrt(var + 10e-7)
                    self.batch_size, self.xc, self.std = x.shape[0], xc, std
                    self.xn = xc / std
                    self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
                    self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
                    return self.gamma * self.xn + self.beta
                xn = (x - self.running_mean) / np.sqrt(self.running_var + 10e-7)
                return self.gamma * xn + self.beta

            def backward(self, dout):
                self.dbeta = dout.sum(axis=0)
                self.dgamma = np.sum(self.xn * dout, axis=0)
                dxn = self.gamma * dout
                dxc = dxn / self.std
                dstd = -np.sum((dxn * self.xc) / (self.std * self.std), axis=0)
                dvar = 0.5 * dstd / self.std
                dxc += (2.0 / self.batch_size) * self.xc * dvar
                dmu = np.sum(dxc, axis=0)
                return dxc - dmu / self.batch_size
    """,
    # PyTorch's semantics, and a closed-form backward instead of the book's graph
    "pytorch": """
        import numpy as np

        class BatchNormalization:
            def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
                self.gamma, self.beta, self.momentum = gamma, beta, momentum
                self.running_mean = np.zeros_like(gamma) if running_mean is None else running_mean
                self.running_var = np.ones_like(gamma) if running_var is None else running_var

            def forward(self, x, train_flg=True):
                if train_flg:
                    n = x.shape[0]
                    mu, var = x.mean(axis=0), x.var(axis=0)
                    self.std = np.sqrt(var + 1e-5)
                    self.xn = (x - mu) / self.std
                    self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
                    self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var * n / (n - 1)
                    return self.gamma * self.xn + self.beta
                return self.gamma * (x - self.running_mean) / np.sqrt(self.running_var + 1e-5) + self.beta

            def backward(self, dout):
                self.dbeta = dout.sum(axis=0)
                self.dgamma = np.sum(self.xn * dout, axis=0)
                dxn = self.gamma * dout
                return (dxn - dxn.mean(axis=0) - self.xn * np.mean(dxn * self.xn, axis=0)) / self.std
    """,
}


def mistaken(source, wrong, right):
    """``source`` with ``wrong`` replaced by ``right`` (which must be in it)."""
    assert wrong in source, wrong
    return source.replace(wrong, right)


@pytest.mark.parametrize("name", ["dropout", "batch_normalization"])
@pytest.mark.parametrize("semantics", SEMANTICS)
def test_the_projects_own_solution_passes(tmp_path, name, semantics):
    assert passes(grade_source(name, solution_source(name, semantics), tmp_path, semantics), name)


@pytest.mark.parametrize("name, sources", [("dropout", GOOD_DROPOUT),
                                           ("batch_normalization", GOOD_BATCH_NORMALIZATION)])
@pytest.mark.parametrize("semantics", SEMANTICS)
def test_a_hand_written_solution_passes(tmp_path, name, sources, semantics):
    verdicts = grade_source(name, sources[semantics], tmp_path, semantics)
    assert passes(verdicts, name), [(v.check, v.failure and v.failure.message) for v in verdicts]


@pytest.mark.parametrize("name", ["dropout", "batch_normalization"])
def test_a_fresh_skeleton_is_not_written_yet(tmp_path, name):
    failure = failure_of(grade_source(name, find_task(name).skeleton, tmp_path))
    assert "not written yet" in failure.message and "NotImplementedError" in failure.message


def test_the_tasks_follow_the_optimizers_in_the_books_order():
    from toolkit.practice.tasks import ch6

    assert [task.name for task in ch6.TASKS][-2:] == ["dropout", "batch_normalization"]
    assert ch6.TASKS[:-2] == tuple(ch6.OPTIMIZER_TASKS)


# --- Dropout's mistakes ---

INVERTED = ("return x * self.mask\n", "return x * self.mask / (1.0 - self.dropout_ratio)\n")


@pytest.mark.parametrize("changes, side", [
    ([INVERTED, ("return x * (1.0 - self.dropout_ratio)", "return x")], "in training (PyTorch's inverted dropout)"),
    ([INVERTED], "on both sides"),
    ([("return x * (1.0 - self.dropout_ratio)", "return x")], "on neither side"),
])
def test_dropout_scaling_on_the_wrong_side_names_the_side_book(tmp_path, changes, side):
    source = GOOD_DROPOUT["book"]
    for wrong, right in changes:
        source = mistaken(source, wrong, right)
    failure = failure_of(grade_source("dropout", source, tmp_path))
    assert failure.mistake is not None and failure.mistake.name == "dropout scaling on the wrong side"
    assert side in failure.mistake.why and "the book scales only the test pass" in failure.mistake.why


@pytest.mark.parametrize("changes, side", [
    ([("/ (1.0 - self.dropout_ratio)\n                return x\n",
       "/ (1.0 - self.dropout_ratio)\n                return x * (1.0 - self.dropout_ratio)\n")], "on both sides"),
    ([("return x * self.mask / (1.0 - self.dropout_ratio)", "return x * self.mask")], "on neither side"),
])
def test_dropout_scaling_on_the_wrong_side_names_the_side_pytorch(tmp_path, changes, side):
    source = GOOD_DROPOUT["pytorch"]
    for wrong, right in changes:
        source = mistaken(source, wrong, right)
    failure = failure_of(grade_source("dropout", source, tmp_path, "pytorch"))
    assert failure.mistake is not None and failure.mistake.name == "dropout scaling on the wrong side"
    assert side in failure.mistake.why and "PyTorch's semantics scale only the survivors" in failure.mistake.why


def test_the_books_dropout_graded_with_pytorchs_semantics_scales_on_the_wrong_side(tmp_path):
    failure = failure_of(grade_source("dropout", GOOD_DROPOUT["book"], tmp_path, "pytorch"))
    assert failure.mistake is not None and failure.mistake.name == "dropout scaling on the wrong side"
    assert "this code scales the test pass by (1 - dropout_ratio) (the book's dropout)" in failure.mistake.why


@pytest.mark.parametrize("semantics", SEMANTICS)
def test_dropout_backward_not_applying_the_mask(tmp_path, semantics):
    source = GOOD_DROPOUT[semantics]
    wrong = "return dout * self.mask" if semantics == "book" else "return dout * self.mask / (1.0 - self.dropout_ratio)"
    right = "return dout" if semantics == "book" else "return dout / (1.0 - self.dropout_ratio)"
    source = mistaken(source, wrong, right)
    named = mistake_named(grade_source("dropout", source, tmp_path, semantics))
    assert named == "dropout backward not applying the mask"


@pytest.mark.parametrize("semantics, wrong, right", [
    ("book", "return dout * self.mask", "return dout * self.mask / (1.0 - self.dropout_ratio)"),
    ("pytorch", "return dout * self.mask / (1.0 - self.dropout_ratio)", "return dout * self.mask"),
])
def test_dropout_backward_not_scaled_as_forward(tmp_path, semantics, wrong, right):
    source = mistaken(GOOD_DROPOUT[semantics], wrong, right)
    named = mistake_named(grade_source("dropout", source, tmp_path, semantics))
    assert named == "dropout backward not scaled as forward"


@pytest.mark.parametrize("semantics", SEMANTICS)
def test_dropout_mask_reversed(tmp_path, semantics):
    source = GOOD_DROPOUT[semantics]
    wrong = "> self.dropout_ratio" if semantics == "book" else ">= self.dropout_ratio"
    source = mistaken(source, wrong, "< self.dropout_ratio")
    assert mistake_named(grade_source("dropout", source, tmp_path, semantics)) == "dropout mask reversed"


def test_dropout_mask_not_the_books_draw(tmp_path):
    source = mistaken(GOOD_DROPOUT["book"], "np.random.rand(*x.shape)", "np.random.default_rng().random(x.shape)")
    assert mistake_named(grade_source("dropout", source, tmp_path)) == "dropout mask not the book's draw"


# --- BatchNormalization's mistakes ---

BOOK_BN, TORCH_BN = GOOD_BATCH_NORMALIZATION["book"], GOOD_BATCH_NORMALIZATION["pytorch"]


@pytest.mark.parametrize("semantics, source, changes", [
    ("book", BOOK_BN, [("mu = x.mean(axis=0)", "mu = self.running_mean"),
                       ("var = np.mean(xc ** 2, axis=0)", "var = self.running_var")]),
    ("pytorch", TORCH_BN, [("self.xn = (x - mu) / self.std",
                            "self.xn = (x - self.running_mean) / np.sqrt(self.running_var + 1e-5)")]),
])
def test_batch_norm_using_its_running_statistics_while_training(tmp_path, semantics, source, changes):
    for wrong, right in changes:
        source = mistaken(source, wrong, right)
    named = mistake_named(grade_source("batch_normalization", source, tmp_path, semantics))
    assert named == "batch norm using its running statistics while training"


@pytest.mark.parametrize("semantics, source, wrong, right", [
    ("book", BOOK_BN, "dmu = np.sum(dxc, axis=0)\n                return dxc - dmu / self.batch_size",
     "return dxn / self.std"),
    ("pytorch", TORCH_BN, "return (dxn - dxn.mean(axis=0) - self.xn * np.mean(dxn * self.xn, axis=0)) / self.std",
     "return dxn / self.std"),
])
def test_batch_norm_backward_missing_the_mean_terms(tmp_path, semantics, source, wrong, right):
    source = mistaken(source, wrong, right)
    named = mistake_named(grade_source("batch_normalization", source, tmp_path, semantics))
    assert named == "batch norm backward missing the mean terms"


@pytest.mark.parametrize("semantics, source, wrong, right", [
    ("pytorch", TORCH_BN, "var * n / (n - 1)", "var"),
    ("book", BOOK_BN, "(1 - self.momentum) * var\n", "(1 - self.momentum) * np.var(x, axis=0, ddof=1)\n"),
])
def test_the_biased_vs_unbiased_variance_in_the_running_statistics(tmp_path, semantics, source, wrong, right):
    source = mistaken(source, wrong, right)
    failure = failure_of(grade_source("batch_normalization", source, tmp_path, semantics))
    assert failure.mistake is not None
    assert failure.mistake.name == "the biased vs unbiased variance in the running statistics"
    assert ("biased batch variance" if semantics == "book" else "unbiased batch variance") in failure.mistake.why


@pytest.mark.parametrize("semantics, source, wrong, right, mistake", [
    ("book", BOOK_BN, "xn = (x - self.running_mean) / np.sqrt(self.running_var + 10e-7)",
     "xn = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 10e-7)", "batch statistics used at test time"),
    ("book", BOOK_BN, "np.sqrt(var + 10e-7)", "np.sqrt(var + 1e-5)", "batch norm eps of the other semantics"),
    ("pytorch", TORCH_BN, "np.sqrt(var + 1e-5)", "np.sqrt(var + 1e-6)", "batch norm eps of the other semantics"),
    ("book", BOOK_BN, "var = np.mean(xc ** 2, axis=0)\n", "var = np.var(x, axis=0, ddof=1)\n",
     "batch norm normalising with the unbiased variance"),
    ("book", BOOK_BN, "self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu",
     "self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mu",
     "running statistics momentum swapped"),
    ("pytorch", TORCH_BN, "self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu",
     "pass", "running statistics not updated in training"),
    ("pytorch", TORCH_BN, "np.ones_like(gamma) if running_var", "np.zeros_like(gamma) if running_var",
     "running_var starting at the other semantics' value"),
    ("book", BOOK_BN, "self.dgamma = np.sum(self.xn * dout, axis=0)", "self.dgamma = self.xn * dout",
     "dgamma or dbeta not summed over the batch"),
])
def test_other_batch_norm_mistakes_are_named(tmp_path, semantics, source, wrong, right, mistake):
    source = mistaken(source, wrong, right)
    assert mistake_named(grade_source("batch_normalization", source, tmp_path, semantics)) == mistake


def test_batch_norm_test_pass_changing_the_running_statistics_fails(tmp_path):
    source = mistaken(BOOK_BN, "return self.gamma * xn + self.beta",
                      "self.running_var = self.running_var + 0.01\n                return self.gamma * xn + self.beta")
    failure = failure_of(grade_source("batch_normalization", source, tmp_path))
    assert failure.message == "running_var changed in a test pass (train_flg=False): only training updates it"
