"""Chapter 2's practice tasks: the perceptron's logic gates AND, NAND, OR (2.3) and XOR (2.5).

A gate is graded by its truth table: the four input pairs against the book's
gate (``scratch.book``, the same in ``scratch``) and PyTorch's logical
operator. A wrong table is named by the gate it equals ("AND behaves as OR":
the bias is that gate's) or, when constant, by the bias's sign.
"""
import types

import numpy as np

from ..task import Mistake, Task

PAIRS = ((0, 0), (1, 0), (0, 1), (1, 1))

# Every gate's outputs on PAIRS, the book's four and the ones a wrong weight or bias turns a gate into.
TABLES = {
    "AND": (0, 0, 0, 1),
    "NAND": (1, 1, 1, 0),
    "OR": (0, 1, 1, 1),
    "NOR": (1, 0, 0, 0),
    "XOR": (0, 1, 1, 0),
    "XNOR": (1, 0, 0, 1),
}

# (w1, w2, b) of the book's perceptrons, for the skeletons and the verdicts
PARAMETERS = {"AND": "w = (0.5, 0.5), b = -0.7", "NAND": "w = (-0.5, -0.5), b = 0.7",
              "OR": "w = (0.5, 0.5), b = -0.2"}

BOOK_LINE = {
    "AND": "AND: w = np.array([0.5, 0.5]); b = -0.7; tmp = np.sum(w*x) + b; return 0 if tmp <= 0 else 1",
    "NAND": "NAND: w = np.array([-0.5, -0.5]); b = 0.7  (AND's weights and bias with every sign flipped)",
    "OR": "OR: w = np.array([0.5, 0.5]); b = -0.2  (only the bias differs from AND)",
    "XOR": "XOR: s1 = NAND(x1, x2); s2 = OR(x1, x2); y = AND(s1, s2)",
}

GATE_SKELETON = '''"""{name}, a perceptron gate ({section}): return 1 or 0 for the inputs x1, x2 (each 0 or 1).

    y = 1 if w1*x1 + w2*x2 + b > 0, else 0        (equation 2.2; b = -theta, the threshold)

    x1 x2 | y
    ------+--
     0  0 | {t[0]}
     1  0 | {t[1]}
     0  1 | {t[2]}
     1  1 | {t[3]}

Choose the weights and the bias (the book's: {parameters}).

Check it: python scripts/practice.py check {task}
"""
import numpy as np


def {name}(x1, x2):
    x = np.array([x1, x2])
    raise NotImplementedError("choose w and b, compute np.sum(w*x) + b, return 1 if it is > 0, else 0")
'''

XOR_SKELETON = '''"""XOR, the two-layer perceptron (2.5.2): return 1 when exactly one of x1, x2 is 1.

    x1 x2 | s1 = NAND  s2 = OR | y = AND(s1, s2)
    ------+--------------------+----------------
     0  0 |     1        0     |  0
     1  0 |     1        1     |  1
     0  1 |     1        1     |  1
     1  1 |     0        1     |  0

No single perceptron draws this table (its 1s and 0s are not separated by one
straight line, 2.4), so XOR is built from the other gates: a layer NAND and
OR, then AND.

Check it: python scripts/practice.py check xor
"""
import numpy as np

from scratch.book import AND, NAND, OR
# or your own, from practice/and.py, nand.py, or.py ("and" and "or" are keywords, so import_module):
# from importlib import import_module
# AND, NAND, OR = import_module("and").AND, import_module("nand").NAND, import_module("or").OR


def XOR(x1, x2):
    raise NotImplementedError("s1 = NAND(x1, x2), s2 = OR(x1, x2), return AND(s1, s2)")
'''


def torch_table(name):
    """The gate's table on PAIRS by PyTorch's logical operators."""
    import torch

    x1 = torch.tensor([a for a, _ in PAIRS], dtype=torch.bool)
    x2 = torch.tensor([b for _, b in PAIRS], dtype=torch.bool)
    table = {"AND": torch.logical_and(x1, x2), "NAND": ~torch.logical_and(x1, x2),
             "OR": torch.logical_or(x1, x2), "XOR": torch.logical_xor(x1, x2)}[name]
    return table.to(torch.int64).numpy()


def gate_mistakes(name):
    """A wrong table named by the gate it is, or by the bias's sign when it is constant."""
    others = [Mistake(f"{name} behaves as {other}",
                      f"its outputs are {other}'s truth table {table}: the weights or the bias are {other}'s "
                      f"(the book's {name}: {PARAMETERS.get(name, 'NAND and OR, then AND')})",
                      BOOK_LINE[name], lambda received, table=table: tuple(received) == table)
              for other, table in TABLES.items() if other != name]
    constant = [Mistake(f"{name} always returns {value}",
                        f"the weighted sum is {'never' if value == 0 else 'always'} above 0: the bias has the "
                        f"wrong sign or size (b = -theta; the book's {name}: "
                        f"{PARAMETERS.get(name, 'NAND and OR, then AND')})",
                        BOOK_LINE[name], lambda received, value=value: tuple(received) == (value,) * 4)
                for value in (0, 1)]
    return tuple(others + constant)


def not_zero_or_one(name):
    return Mistake(f"{name} returns the weighted sum, not 0 or 1",
                   "a perceptron outputs 1 when w1*x1 + w2*x2 + b > 0 and 0 otherwise, not the sum itself",
                   BOOK_LINE[name], lambda received: True)


def table_of(grader, name, inputs=PAIRS):
    """The learner's outputs on ``inputs``, each required to be a single 0 or 1."""
    outputs = []
    for x1, x2 in inputs:
        y = grader.call(f"{name}({x1}, {x2})", grader.learner, x1, x2)
        grader.require(y is not None, f"{name}({x1}, {x2}) is None: the gate must return 0 or 1",
                       book_line=BOOK_LINE[name])
        value = np.asarray(y)
        grader.require(value.size == 1 and value.dtype.kind in "biuf" and float(value.ravel()[0]) in (0.0, 1.0),
                       f"{name}({x1}, {x2}) returned {y!r}, not 0 or 1", mistake=not_zero_or_one(name))
        outputs.append(int(value.ravel()[0]))
    return np.array(outputs)


def gate_checks(name):
    """The checks of one gate: the book's table, PyTorch's, float inputs."""

    def check_table(grader):
        received = table_of(grader, name)
        expected = np.array([int(np.asarray(getattr(grader.expected, name)(a, b))) for a, b in PAIRS])
        grader.compare(f"{name} on (0, 0), (1, 0), (0, 1), (1, 1)", received, expected, gate_mistakes(name),
                       BOOK_LINE[name])

    def check_torch(grader):
        grader.compare(f"{name} against PyTorch's logical operator", table_of(grader, name), torch_table(name),
                       gate_mistakes(name), BOOK_LINE[name])

    def check_floats(grader):
        inputs = tuple((float(a), float(b)) for a, b in PAIRS)
        grader.compare(f"{name} on (0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)", table_of(grader, name, inputs),
                       np.array(TABLES[name]), gate_mistakes(name), BOOK_LINE[name])

    check_table.__doc__ = f"the truth table: {name} on the four input pairs equals the book's {name}"
    check_torch.__doc__ = f"the truth table equals PyTorch's ({_torch_name(name)})"
    check_floats.__doc__ = "float inputs 0.0 and 1.0 give the same table"
    return check_table, check_torch, check_floats


def _torch_name(name):
    return {"AND": "torch.logical_and", "NAND": "~torch.logical_and", "OR": "torch.logical_or",
            "XOR": "torch.logical_xor"}[name]


XOR_DIRECT = Mistake("XOR computed directly, not as a two-layer perceptron",
                     "the point of 2.5 is that XOR needs two layers of perceptrons: a first layer NAND and OR, "
                     "then AND on their outputs",
                     BOOK_LINE["XOR"], lambda received: True)


def gates_called(function):
    """The functions of the learner's module (or the project's gates) that ``function``'s code names."""
    names, codes = set(), [function.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(const for const in code.co_consts if isinstance(const, types.CodeType))
    return {name for name in names if isinstance(function.__globals__.get(name), types.FunctionType)
            and name != function.__name__}


def check_xor_layers(grader):
    """built from the other gates (2.5.2): a first layer NAND and OR, then AND"""
    learner = grader.learner
    grader.require(isinstance(learner, types.FunctionType), "XOR must be a function XOR(x1, x2)")
    grader.require(bool(gates_called(learner)),
                   "XOR calls no gate (no function of its file or the project's AND, NAND, OR): it is computed "
                   "in one step, which no single perceptron can do", mistake=XOR_DIRECT)


def gate_task(name, section, skeleton):
    checks = gate_checks(name) + ((check_xor_layers,) if name == "XOR" else ())
    return Task(name.lower(), 2, section, name, skeleton, checks)


def gate_skeleton(name, section):
    return GATE_SKELETON.format(name=name, section=section, t=TABLES[name], parameters=PARAMETERS[name],
                                task=name.lower())


AND = gate_task("AND", "2.3.3", gate_skeleton("AND", "2.3.3"))
NAND = gate_task("NAND", "2.3.3", gate_skeleton("NAND", "2.3.3"))
OR = gate_task("OR", "2.3.3", gate_skeleton("OR", "2.3.3"))
XOR = gate_task("XOR", "2.5.2", XOR_SKELETON)

TASKS = (AND, NAND, OR, XOR)
