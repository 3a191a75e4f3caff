"""The command ``scripts/questions.py`` and what every question shares (``toolkit.questions``).

Each question's own experiment is tested in ``test_question_<name>.py``; here:
the list, one-line errors for bad names and backends, the registry against
the modules and the site's catalog, and the session's JSON, conclusions and
Markdown.
"""
import json
from types import SimpleNamespace

import numpy as np
import pytest
from parameterized import parameterized

from toolkit import questions
from toolkit.questions.session import Session, to_json
from toolkit.site.catalog import by_name as catalog
from .script_support import assert_usage_error, run_script, succeeded

NAMES = ["hidden-activation", "one-hot", "gradient-check-gap", "backprop-vs-numerical", "rmsprop",
         "adam-bias-correction", "batchnorm-gamma-beta", "lenet-subsampling", "lrn", "softmax-with-loss", "im2col",
         "weight-decay", "hyperparameter-search"]


def test_the_list_names_every_question_in_both_languages():
    stdout = succeeded(run_script("questions.py"))
    for question in questions.QUESTIONS:
        assert question.name in stdout and question.korean in stdout and question.english in stdout


def test_the_questions_are_the_issues_thirteen_in_order():
    assert [question.name for question in questions.QUESTIONS] == NAMES


@parameterized.expand([(name,) for name in NAMES])
def test_each_question_has_a_module_with_run(name):
    module = questions.load_module(questions.find_question(name))
    assert callable(module.run)
    assert module.__doc__ and len(module.__doc__.split()) > 20, f"{module.__name__} explains its experiment"


@parameterized.expand([(name,) for name in NAMES])
def test_each_questions_components_are_on_the_site(name):
    question = questions.find_question(name)
    assert question.components, name
    assert set(question.components) <= set(catalog()), set(question.components) - set(catalog())


@parameterized.expand([
    ("unknown_name", ["lrm"], "did you mean lrn"),
    ("book_only_question", ["gradient-check-gap", "--backend", "torch"], "--backend scratch"),
    ("unknown_backend", ["lrn", "--backend", "jax"], "invalid choice"),
    ("negative_seed", ["lrn", "--seed", "-1"], "integer >= 0"),
])
def test_bad_arguments_are_one_line(_name, argv, words):
    assert_usage_error(run_script("questions.py", *argv), words)


def test_a_json_path_that_is_a_folder_is_refused_before_the_run(tmp_path):
    assert_usage_error(run_script("questions.py", "im2col", "--json", tmp_path), "is a directory")


def _session(tmp_path, **options):
    args = SimpleNamespace(quick=True, seed=3, backend="scratch", threads=None, no_plot=True, plot=None,
                           json=str(tmp_path / "r.json"), markdown=str(tmp_path / "r.md"), no_progress=True,
                           data_dir=None, download=False, **options)
    return Session(questions.find_question("rmsprop"), args)


def test_a_conclusion_says_what_was_measured_and_never_both(tmp_path, capsys):
    session = _session(tmp_path)
    session.conclude("fits", True, "it fits: 1.0", "it does not fit: 1.0")
    session.conclude("fails", False, "it fits: 2.0", "it does not fit: 2.0")
    out = capsys.readouterr().out
    assert "answer: it fits: 1.0" in out and "it does not fit: 1.0" not in out
    assert "contrary to the expected answer: it does not fit: 2.0" in out and "it fits: 2.0" not in out
    assert session.conclusions == {"fits": {"holds": True, "text": "it fits: 1.0"},
                                   "fails": {"holds": False, "text": "it does not fit: 2.0"}}


def test_the_json_holds_the_measurements_the_options_and_the_wall_time(tmp_path):
    session = _session(tmp_path)
    session.record("ratio", np.float32(0.5))
    session.record("curve", np.array([1.0, np.nan]))
    session.table("t", ["a", "max |b|"], [[1, "x"]])
    session.conclude("c", True, "yes", "no")
    session.write_files()
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["measured"] == {"ratio": 0.5, "curve": [1.0, None]}
    assert (result["question"], result["seed"], result["quick"], result["backend"]) == ("rmsprop", 3, True, "scratch")
    assert result["wall_time_s"] >= 0 and result["conclusions"]["c"]["holds"] is True
    markdown = (tmp_path / "r.md").read_text()
    assert "| a | max \\|b\\| |" in markdown and "| 1 | x |" in markdown and "- yes" in markdown


def test_to_json_turns_numpy_into_json():
    assert to_json({1: (np.int64(2), np.bool_(True), float("inf"))}) == {"1": [2, True, None]}


def test_asking_for_more_images_than_mnist_has_is_one_error(tmp_path):
    session = _session(tmp_path)
    session._mnist[("float32", True)] = ((np.zeros((2, 1)), np.zeros(2)), (np.zeros((1, 1)), np.zeros(1)))
    with pytest.raises(ValueError, match="asks for 3 training images; MNIST has 2"):
        session.mnist(train_size=3)


def test_docs_answer_every_question_with_its_command_numbers_and_figure():
    from .script_support import REPO_ROOT

    text = (REPO_ROOT / "docs" / "questions.md").read_text()
    sections = text.split('<a id="')[1:]
    assert [section.split('"')[0] for section in sections] == NAMES
    for question, section in zip(questions.QUESTIONS, sections):
        assert f"## {question.name}: " in section and question.korean in section, question.name
        assert f"python scripts/questions.py {question.name}" in section, question.name
        assert "**Answer.**" in section and "|---" in section, f"{question.name}: no measured table or answer"
        figures = [line.split("](")[1].split(")")[0] for line in section.splitlines() if line.startswith("![")]
        assert figures, f"{question.name}: no figure"
        for figure in figures:
            assert (REPO_ROOT / "docs" / figure).is_file(), figure
