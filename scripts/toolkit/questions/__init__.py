"""The learner's questions, answered by experiment (``scripts/questions.py``, docs/questions.md).

The study notes this project started from end each chapter with "✓ 궁금한 점"
(what I wondered) and "✓ 어려웠던 점" (what was hard). ``QUESTIONS`` lists one
experiment per question, in the notes' order; each lives in a module of this
package named after it (``hidden-activation`` in ``hidden_activation.py``)
with one function, ``run(session)``: it measures, prints tables, states the
conclusions the numbers support (``session.conclude``) and draws a figure.
``session.py`` holds what they share.

Standard library only: listing the questions imports nothing heavy.
"""
import importlib
from dataclasses import dataclass

__all__ = ["Question", "QUESTIONS", "by_name", "find_question", "load_module"]


@dataclass(frozen=True)
class Question:
    """One question: its fixed name, the chapter, the notes' words and an English version.

    ``components``: the catalog names (``toolkit.site.catalog``) the experiment
    exercises, linked from the site's Questions page. ``backends``: those it
    runs on; a question about the book's code runs on the book's NumPy alone.
    ``kind``: "wondered" (궁금한 점) or "hard" (어려웠던 점).
    """

    name: str
    chapter: int
    korean: str
    english: str
    components: tuple = ()
    backends: tuple = ("scratch", "torch")
    kind: str = "wondered"

    @property
    def module_name(self):
        return self.name.replace("-", "_")


QUESTIONS = (
    Question("hidden-activation", 3, "은닉층의 활성화 함수는 아무거나 써도 되나?",
             "Is the hidden layers' activation function arbitrary?",
             ("step_function", "identity_function", "Sigmoid", "Tanh", "Relu", "Affine", "MultiLayerNet", "SoftmaxWithLoss",
              "SGD")),
    Question("one-hot", 3, "왜 원-핫 인코딩을 쓰나?", "Why one-hot encoding?",
             ("SoftmaxWithLoss", "softmax", "cross_entropy_error", "sum_squared_error", "Affine", "Relu", "MultiLayerNet",
              "SGD")),
    Question("gradient-check-gap", 5,
             "기울기 확인 결과(W1 4.8e-10, b1 2.9e-9, W2 5.1e-9, b2 1.4e-7)가 책의 값보다 조금 크다. 왜?",
             "My gradient check printed W1 4.8e-10, b1 2.9e-9, W2 5.1e-9, b2 1.4e-7, a little larger than the "
             "book's values. Why?",
             ("numerical_gradient", "cross_entropy_error", "TwoLayerNet"), backends=("scratch",)),
    Question("backprop-vs-numerical", 5,
             "5장의 신경망이 4장보다 정확도가 2~4% 높았다. 오차역전파법이 정확도를 올리나?",
             "Chapter 5's network scored 2-4% above chapter 4's. Does backpropagation raise accuracy?",
             ("numerical_gradient", "TwoLayerNet", "Sigmoid", "Relu", "SGD")),
    Question("rmsprop", 6, "RMSProp은 AdaGrad의 무엇을 고쳤나?", "What does RMSprop fix in AdaGrad?",
             ("AdaGrad", "RMSprop", "MultiLayerNet")),
    Question("adam-bias-correction", 6, "Adam의 편향 보정은 왜 필요한가?", "Why does Adam correct its bias?",
             ("Adam", "MultiLayerNet")),
    Question("batchnorm-gamma-beta", 6, "배치 정규화의 계층마다 있는 확대(γ)와 이동(β)은 무엇을 위한 것인가?",
             "What are batch norm's per-layer scale (γ) and shift (β) for?",
             ("BatchNormalization", "MultiLayerNetExtend", "Sigmoid", "Relu", "Adam")),
    Question("lenet-subsampling", 8, "LeNet의 서브샘플링은 무작위인가?", "Is LeNet's subsampling random?",
             ("Subsampling", "Pooling", "AvgPooling", "LeNet", "Relu", "Adam")),
    Question("lrn", 8, "LRN(국소적 응답 정규화)은 무엇을 하나?", "What does LRN, local response normalisation, do?",
             ("LocalResponseNorm", "BatchNormalization", "AlexNet", "Adam")),
    Question("softmax-with-loss", 5, "Softmax-with-Loss 계층의 역전파 유도가 어려웠다.",
             "The derivation of Softmax-with-Loss's backward pass was hard.",
             ("SoftmaxWithLoss", "softmax", "cross_entropy_error", "MulLayer", "AddLayer"), kind="hard"),
    Question("im2col", 7, "im2col과 col2im의 구현이 어려웠다.", "Implementing im2col and col2im was hard.",
             ("im2col", "col2im", "Convolution"), kind="hard"),
    Question("weight-decay", 6, "가중치 감소가 어려웠다.", "Weight decay was hard.",
             ("MultiLayerNet", "SGD"), kind="hard"),
    Question("hyperparameter-search", 6, "하이퍼파라미터 최적화가 어려웠다.",
             "Hyperparameter optimisation was hard.", ("MultiLayerNet", "SGD", "Trainer"), kind="hard"),
)


def by_name():
    """{name: Question}."""
    return {question.name: question for question in QUESTIONS}


def find_question(name):
    """The question named ``name``; a ValueError naming the close ones (and how to list all) otherwise."""
    import difflib

    questions = by_name()
    if name in questions:
        return questions[name]
    close = difflib.get_close_matches(name.replace("_", "-").lower(), list(questions), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ValueError(f"unknown question {name!r}{hint} (python scripts/questions.py lists them)")


def load_module(question):
    """The module that runs ``question`` (imported now: it may import NumPy)."""
    return importlib.import_module(f"{__name__}.{question.module_name}")
