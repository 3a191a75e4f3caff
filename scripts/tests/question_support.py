"""Running one question of ``scripts/questions.py`` as a learner would, and reading back its JSON.

Each question's test module runs its question once per backend with ``--quick``
(a module-scoped fixture) and asserts the measured basis of each conclusion on
the numbers of the ``--json`` file, not merely that the script ran.
"""
import json

from mnist_support import requires_mnist  # noqa: F401 - re-exported for the question tests
from .script_support import run_script, succeeded

QUICK_TIMEOUT = 600  # seconds: a --quick run takes about a minute on a busy 2-core machine


def run_question(name, folder, *args, backend="scratch", quick=True):
    """Run ``questions.py name --backend backend [--quick] --json ... --plot ... args`` in ``folder``.

    Returns ``(stdout, result)``: ``result`` is the JSON file read back; the figure is ``result["plot"]``
    (a path added here).
    """
    json_path = folder / f"{name}-{backend}.json"
    plot_path = folder / f"{name}-{backend}.png"
    options = ["--quick"] if quick else []
    stdout = succeeded(run_script("questions.py", name, *options, "--backend", backend, "--seed", "0",
                                  "--json", json_path, "--plot", plot_path, "--no-progress", *args,
                                  timeout=QUICK_TIMEOUT))
    result = json.loads(json_path.read_text())
    result["plot"] = plot_path
    return stdout, result
