"""Chapter 5's practice tasks: the layers of backpropagation (5.4-5.6).

MulLayer, AddLayer, Relu, Sigmoid, Affine, SoftmaxWithLoss, in the book's
order. Each task's checks compare the learner's layer with the package of the
semantics being graded (``scratch.book`` or ``scratch``), with PyTorch's
operator and autograd, and with central differences; each names the classic
mistakes its inputs expose.
"""
import numpy as np

from ..task import Mistake, Task


# ---------------------------------------------------------------------------
# Helpers shared by the layers
# ---------------------------------------------------------------------------

def _close(received, expected, rtol=1e-9):
    """True when ``received`` has ``expected``'s shape and values (a predicate's test; False on anything odd)."""
    received, expected = np.asarray(received, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if received.shape != expected.shape:
        return False
    return bool(np.allclose(received, expected, rtol=rtol, atol=rtol * max(1.0, float(np.max(np.abs(expected))))))


def _pair(grader, what, returned, book_line):
    """The (dx, dy) that a two-input layer's backward returns: a failure names anything else."""
    grader.require(isinstance(returned, (tuple, list)) and len(returned) == 2,
                   f"{what} returned {type(returned).__name__}, not a pair (dx, dy): "
                   "a layer with two inputs returns the gradient of each", book_line=book_line)
    return returned


def _torch_grads(function, *arrays, dout):
    """(output, gradients) of a torch ``function`` of ``arrays``, backpropagating ``dout``; as NumPy arrays."""
    import torch

    tensors = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = function(*tensors)
    out.backward(torch.tensor(np.asarray(dout, dtype=np.float64)))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


# ---------------------------------------------------------------------------
# MulLayer (5.4.1) and AddLayer (5.4.2): two inputs, backward returns (dx, dy)
# ---------------------------------------------------------------------------

MUL_LAYER_SKELETON = '''"""MulLayer, the multiplication node (5.4.1): write forward and backward.

    forward:   out = x * y                  (elementwise; scalars or arrays of one shape)
    backward:  dx = dout * y,  dy = dout * x
               each input's gradient is dout times the OTHER input,
               so forward keeps x and y for backward

backward returns the pair (dx, dy).

Check it: python scripts/practice.py check mul_layer
"""
import numpy as np


class MulLayer:
    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        raise NotImplementedError("keep x and y, return x * y")

    def backward(self, dout):
        raise NotImplementedError("return dx, dy: dout times the other input")
'''

ADD_LAYER_SKELETON = '''"""AddLayer, the addition node (5.4.2): write forward and backward.

    forward:   out = x + y                  (scalars or arrays of one shape)
    backward:  dx = dout * 1,  dy = dout * 1
               addition passes dout on unchanged to both inputs

backward returns the pair (dx, dy).

Check it: python scripts/practice.py check add_layer
"""
import numpy as np


class AddLayer:
    def __init__(self):
        pass

    def forward(self, x, y):
        raise NotImplementedError("return x + y")

    def backward(self, dout):
        raise NotImplementedError("return dx, dy: dout passed on to both inputs")
'''

MUL_FORWARD_LINE = "MulLayer.forward: out = x * y"
MUL_BACKWARD_LINE = "MulLayer.backward: dx = dout * self.y; dy = dout * self.x"
ADD_FORWARD_LINE = "AddLayer.forward: out = x + y"
ADD_BACKWARD_LINE = "AddLayer.backward: dx = dout * 1; dy = dout * 1"


def two_input_arrays(grader, n, dtype):
    """(x, y, dout), each (n, 3) of ``dtype``."""
    rng = grader.rng(54, n)
    x = rng.standard_normal((n, 3)).astype(dtype)
    y = (rng.standard_normal((n, 3)) + 3).astype(dtype)  # far from x: dout * x and dout * y differ
    dout = rng.standard_normal((n, 3)).astype(dtype)
    return x, y, dout


def two_input_pass(grader, layer_class, name, x, y, dout, backward_line):
    """forward then backward of the learner's ``layer_class()``: (out, dx, dy)."""
    layer = grader.call(f"{name}()", layer_class)
    out = grader.call("forward", layer.forward, _copy(x), _copy(y))
    dx, dy = _pair(grader, "backward", grader.call("backward", layer.backward, _copy(dout)), backward_line)
    return out, dx, dy


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


def mul_backward_mistakes(x, y, dout):
    """dx's and dy's mistakes: each the other's formula (x and y swapped in backward)."""
    why = MUL_SWAPPED_WHY
    return {"dx": (Mistake("x and y swapped in backward", why, MUL_BACKWARD_LINE,
                           lambda dx: _close(dx, np.multiply(dout, x))),),
            "dy": (Mistake("x and y swapped in backward", why, MUL_BACKWARD_LINE,
                           lambda dy: _close(dy, np.multiply(dout, y))),)}


def apples(grader, mul_class):
    """The book's 5.4.1 with ``mul_class``: (price, dapple, dapple_num, dtax) for 2 apples at 100, tax 1.1."""
    mul_apple, mul_tax = grader.call("MulLayer()", mul_class), grader.call("MulLayer()", mul_class)
    apple_price = grader.call("forward", mul_apple.forward, 100, 2)
    price = grader.call("forward", mul_tax.forward, apple_price, 1.1)
    dapple_price, dtax = _pair(grader, "backward", grader.call("backward", mul_tax.backward, 1), MUL_BACKWARD_LINE)
    dapple, dapple_num = _pair(grader, "backward", grader.call("backward", mul_apple.backward, dapple_price),
                               MUL_BACKWARD_LINE)
    return price, dapple, dapple_num, dtax


class _SwappedMulLayer:
    """The mistake itself: backward returns (dout * x, dout * y). What it gives names the mistake."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x * y

    def backward(self, dout):
        return dout * self.x, dout * self.y


MUL_SWAPPED_WHY = "each input's gradient is dout times the OTHER input: dx = dout * y, dy = dout * x"


def check_mul_apples(grader):
    """the book's apples (5.4.1): price 220, dapple 2.2, dapple_num 110, dtax 200"""
    received = apples(grader, grader.learner)
    expected = apples(grader, grader.expected.MulLayer)
    swapped = apples(grader, _SwappedMulLayer)
    grader.compare("price", received[0], expected[0], book_line=MUL_FORWARD_LINE)
    for name, got, want, wrong in zip(("dapple", "dapple_num", "dtax"), received[1:], expected[1:], swapped[1:]):
        mistake = Mistake("x and y swapped in backward", MUL_SWAPPED_WHY, MUL_BACKWARD_LINE,
                          lambda got, wrong=wrong: _close(got, wrong))
        grader.compare(name, got, want, (mistake,), MUL_BACKWARD_LINE)


def add_backward_mistakes(x, y, dout):
    """dx's and dy's mistakes: MulLayer's rule (dout times the other input) in AddLayer."""
    why = ADD_MUL_RULE_WHY
    return {"dx": (Mistake("dout multiplied by the other input (MulLayer's rule)", why, ADD_BACKWARD_LINE,
                           lambda dx: _close(dx, np.multiply(dout, y)) or _close(dx, np.multiply(dout, x))),),
            "dy": (Mistake("dout multiplied by the other input (MulLayer's rule)", why, ADD_BACKWARD_LINE,
                           lambda dy: _close(dy, np.multiply(dout, x)) or _close(dy, np.multiply(dout, y))),)}


def fruits(grader, add_class, mul_class):
    """The book's 5.4.2: 2 apples at 100 and 3 oranges at 150, tax 1.1; (price, the five gradients)."""
    mul_apple, mul_orange, mul_tax = mul_class(), mul_class(), mul_class()
    add = grader.call("AddLayer()", add_class)
    apple_price, orange_price = mul_apple.forward(100, 2), mul_orange.forward(150, 3)
    all_price = grader.call("forward", add.forward, apple_price, orange_price)
    price = mul_tax.forward(all_price, 1.1)
    dall_price, dtax = mul_tax.backward(1)
    dapple_price, dorange_price = _pair(grader, "backward", grader.call("backward", add.backward, dall_price),
                                        ADD_BACKWARD_LINE)
    dorange, dorange_num = mul_orange.backward(dorange_price)
    dapple, dapple_num = mul_apple.backward(dapple_price)
    return price, dapple, dapple_num, dorange, dorange_num, dtax


class _MulRuleAddLayer:
    """The mistake itself: AddLayer's backward with MulLayer's rule, (dout * y, dout * x)."""

    def forward(self, x, y):
        self.x, self.y = x, y
        return x + y

    def backward(self, dout):
        return dout * self.y, dout * self.x


ADD_MUL_RULE_WHY = ("addition passes dout on unchanged: dx = dout * 1, dy = dout * 1 "
                    "(MulLayer multiplies by the other input)")


def check_add_fruits(grader):
    """the book's apples and oranges (5.4.2): price 715, dapple 2.2, dorange 3.3, dtax 650"""
    received = fruits(grader, grader.learner, grader.expected.MulLayer)
    expected = fruits(grader, grader.expected.AddLayer, grader.expected.MulLayer)
    mul_rule = fruits(grader, _MulRuleAddLayer, grader.expected.MulLayer)
    grader.compare("price", received[0], expected[0], book_line=ADD_FORWARD_LINE)
    names = ("dapple", "dapple_num", "dorange", "dorange_num", "dtax")
    for name, got, want, wrong in zip(names, received[1:], expected[1:], mul_rule[1:]):
        mistake = Mistake("dout multiplied by the other input (MulLayer's rule)", ADD_MUL_RULE_WHY,
                          ADD_BACKWARD_LINE, lambda got, wrong=wrong: _close(got, wrong))
        grader.compare(name, got, want, (mistake,), ADD_BACKWARD_LINE)


def two_input_checks(layer, operator, torch_operator, mistakes_of, forward_line, backward_line):
    """The five array checks of MulLayer or AddLayer: ``layer`` its name, ``operator`` its NumPy operation
    (for the numerical gradient), ``torch_operator`` PyTorch's, ``mistakes_of(x, y, dout)`` dx's and dy's."""

    def run(grader, n, dtype):
        x, y, dout = two_input_arrays(grader, n, dtype)
        return (x, y, dout), two_input_pass(grader, grader.learner, layer, x, y, dout, backward_line)

    def reference(grader, x, y, dout):
        node = getattr(grader.expected, layer)()
        out = node.forward(x, y)
        return (out, *node.backward(dout))

    def check_forward(grader):
        for n in (1, 4):
            (x, y, dout), (out, _, _) = run(grader, n, np.float64)
            grader.compare(f"forward, batch {n}", out, reference(grader, x, y, dout)[0], book_line=forward_line)

    def check_backward(grader):
        for n in (1, 4):
            (x, y, dout), (_, dx, dy) = run(grader, n, np.float64)
            _, expected_dx, expected_dy = reference(grader, x, y, dout)
            mistakes = mistakes_of(x, y, dout)
            grader.compare(f"dx, batch {n}", dx, expected_dx, mistakes["dx"], backward_line)
            grader.compare(f"dy, batch {n}", dy, expected_dy, mistakes["dy"], backward_line)

    def check_torch(grader):
        (x, y, dout), (out, dx, dy) = run(grader, 4, np.float64)
        expected, (grad_x, grad_y) = _torch_grads(torch_operator(), x, y, dout=dout)
        mistakes = mistakes_of(x, y, dout)
        grader.compare(f"forward against torch.{torch_operator().__name__}", out, expected, book_line=forward_line)
        grader.compare("dx against autograd", dx, grad_x, mistakes["dx"], backward_line)
        grader.compare("dy against autograd", dy, grad_y, mistakes["dy"], backward_line)

    def check_numerical(grader):
        (x, y, dout), (_, dx, dy) = run(grader, 4, np.float64)
        mistakes = mistakes_of(x, y, dout)
        grader.compare("dx against central differences", dx,
                       grader.numerical_gradient(lambda v: float(np.sum(operator(v, y) * dout)), x),
                       mistakes["dx"], backward_line, rtol=1e-7)
        grader.compare("dy against central differences", dy,
                       grader.numerical_gradient(lambda v: float(np.sum(operator(x, v) * dout)), y),
                       mistakes["dy"], backward_line, rtol=1e-7)

    def check_float32(grader):
        (x, y, dout), (out, dx, dy) = run(grader, 4, np.float32)
        expected = reference(grader, x, y, dout)
        for name, got, want in zip(("forward", "dx", "dy"), (out, dx, dy), expected):
            grader.compare(f"{name}, float32", got, want, rtol=1e-5)

    check_forward.__doc__ = f"forward equals the book's {layer} (batches of 1 and 4, float64)"
    check_backward.__doc__ = f"backward: dx and dy equal the book's (batches of 1 and 4, float64)"
    check_torch.__doc__ = f"forward equals torch.{torch_operator().__name__} and dx, dy equal autograd's (float64)"
    check_numerical.__doc__ = "dx and dy equal numerical gradients of sum(forward(x, y) * dout)"
    check_float32.__doc__ = "float32 inputs: the book's numbers to 1e-5"
    return check_forward, check_backward, check_torch, check_numerical, check_float32


def _torch_mul():
    import torch
    return torch.mul


def _torch_add():
    import torch
    return torch.add


MUL_LAYER = Task("mul_layer", 5, "5.4.1", "MulLayer", MUL_LAYER_SKELETON,
                 (check_mul_apples, *two_input_checks("MulLayer", np.multiply, _torch_mul, mul_backward_mistakes,
                                                      MUL_FORWARD_LINE, MUL_BACKWARD_LINE)))

ADD_LAYER = Task("add_layer", 5, "5.4.2", "AddLayer", ADD_LAYER_SKELETON,
                 (check_add_fruits, *two_input_checks("AddLayer", np.add, _torch_add, add_backward_mistakes,
                                                      ADD_FORWARD_LINE, ADD_BACKWARD_LINE)))


# ---------------------------------------------------------------------------
# Relu (5.5.1) and Sigmoid (5.5.2): one input, backward returns dx
# ---------------------------------------------------------------------------

RELU_SKELETON = '''"""Relu, the ReLU layer (5.5.1): write forward and backward.

    forward:   out = x where x > 0, else 0          out has x's shape
    backward:  dx = dout where x > 0, else 0        (the gradient at x = 0 is 0)

forward keeps mask = (x <= 0) for backward. Neither method may change the
caller's array: forward writes into a copy of x, backward into a copy of dout.

Check it: python scripts/practice.py check relu_layer
"""
import numpy as np


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        raise NotImplementedError("keep mask = (x <= 0), return a copy of x with the masked entries 0")

    def backward(self, dout):
        raise NotImplementedError("return dout with the masked entries 0, without changing dout")
'''

SIGMOID_SKELETON = '''"""Sigmoid, the sigmoid layer (5.5.2): write forward and backward.

    forward:   out = 1 / (1 + exp(-x))             out has x's shape
    backward:  dx = dout * out * (1 - out)         out: forward's output, kept

Check it: python scripts/practice.py check sigmoid_layer
"""
import numpy as np


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        raise NotImplementedError("keep out = 1 / (1 + exp(-x)) and return it")

    def backward(self, dout):
        raise NotImplementedError("return dout * out * (1 - out)")
'''

RELU_FORWARD_LINE = "Relu.forward: out = x.copy(); out[self.mask] = 0"
RELU_BACKWARD_LINE = "Relu.backward: dout[self.mask] = 0 (on a copy of dout)"
SIGMOID_FORWARD_LINE = "Sigmoid.forward: out = sigmoid(x); self.out = out"
SIGMOID_BACKWARD_LINE = "Sigmoid.backward: dx = dout * (1.0 - self.out) * self.out"


def one_input_arrays(grader, task, n, dtype):
    """(x, dout), each (n, 5); for Relu, x has exact zeros (its gradient there is 0)."""
    rng = grader.rng(55, task, n)
    x = rng.standard_normal((n, 5))
    if task == 1:
        x[:, ::2] = np.where(rng.random((n, 3)) < 0.5, 0.0, x[:, ::2])
        x[:, 0] = 0.0
    return x.astype(dtype), rng.standard_normal((n, 5)).astype(dtype)


def one_input_pass(grader, layer, x, dout):
    """forward then backward of the learner's layer: (out, dx)."""
    node = grader.call(f"{grader.task.book_name}()", grader.learner)
    out = grader.call("forward", node.forward, x.copy())
    dx = grader.call("backward", node.backward, dout.copy())
    return out, dx


def relu_backward_mistakes(x, dout):
    return (Mistake("mask x < 0 instead of x <= 0",
                    "ReLU's gradient at x = 0 is 0 (as in PyTorch): the mask is x <= 0, so dout is zeroed there too",
                    "Relu.forward: self.mask = (x <= 0)", lambda dx: _close(dx, dout * (x >= 0))),)


def sigmoid_backward_mistakes(x, dout):
    out = 1 / (1 + np.exp(-np.asarray(x, dtype=np.float64)))
    return (Mistake("x used instead of out in backward",
                    "the derivative is out * (1 - out) with out = sigmoid(x), forward's output, not x * (1 - x)",
                    SIGMOID_BACKWARD_LINE, lambda dx: _close(dx, dout * x * (1 - x))),
            Mistake("dout left out of backward",
                    "the chain rule multiplies the local derivative out * (1 - out) by dout",
                    SIGMOID_BACKWARD_LINE, lambda dx: _close(dx, out * (1 - out))))


def one_input_checks(layer, task, numpy_function, torch_name, mistakes_of, forward_line, backward_line):
    """The array checks of Relu or Sigmoid: ``numpy_function`` the activation (for the numerical gradient),
    ``torch_name`` PyTorch's (torch.relu, torch.sigmoid), ``mistakes_of(x, dout)`` dx's."""

    def reference(grader, x, dout):
        node = getattr(grader.expected, layer)()
        return node.forward(x), node.backward(dout)

    def check_forward(grader):
        for n in (1, 4):
            x, dout = one_input_arrays(grader, task, n, np.float64)
            out, _ = one_input_pass(grader, layer, x, dout)
            grader.compare(f"forward, batch {n}", out, reference(grader, x, dout)[0], book_line=forward_line)

    def check_backward(grader):
        for n in (1, 4):
            x, dout = one_input_arrays(grader, task, n, np.float64)
            _, dx = one_input_pass(grader, layer, x, dout)
            grader.compare(f"dx, batch {n}", dx, reference(grader, x, dout)[1], mistakes_of(x, dout), backward_line)

    def check_torch(grader):
        import torch

        x, dout = one_input_arrays(grader, task, 4, np.float64)
        out, dx = one_input_pass(grader, layer, x, dout)
        expected, (grad_x,) = _torch_grads(getattr(torch, torch_name), x, dout=dout)
        grader.compare(f"forward against torch.{torch_name}", out, expected, book_line=forward_line)
        grader.compare("dx against autograd", dx, grad_x, mistakes_of(x, dout), backward_line)

    def check_numerical(grader):
        x, dout = one_input_arrays(grader, task, 4, np.float64)
        x = np.where(x == 0, 0.5, x)  # ReLU has no derivative at 0: differences there would straddle the kink
        _, dx = one_input_pass(grader, layer, x, dout)
        numerical = grader.numerical_gradient(lambda v: float(np.sum(numpy_function(v) * dout)), x)
        grader.compare("dx against central differences", dx, numerical, mistakes_of(x, dout), backward_line,
                       rtol=1e-7)

    def check_float32(grader):
        x, dout = one_input_arrays(grader, task, 4, np.float32)
        out, dx = one_input_pass(grader, layer, x, dout)
        expected_out, expected_dx = reference(grader, x, dout)
        grader.compare("forward, float32", out, expected_out, rtol=1e-5)
        grader.compare("dx, float32", dx, expected_dx, rtol=1e-5)

    check_forward.__doc__ = f"forward equals the book's {layer} (batches of 1 and 4, float64)"
    check_backward.__doc__ = "backward: dx equals the book's (batches of 1 and 4, float64)"
    check_torch.__doc__ = f"forward equals torch.{torch_name} and dx equals autograd's (float64)"
    check_numerical.__doc__ = "dx equals a numerical gradient of sum(forward(x) * dout)"
    check_float32.__doc__ = "float32 input: the book's numbers to 1e-5"
    return check_forward, check_backward, check_torch, check_numerical, check_float32


RELU_FORWARD_IN_PLACE = Mistake(
    "Relu changing its input in place",
    "forward wrote zeros into the caller's x (x[self.mask] = 0 on x itself): the layer below still needs it; "
    "write into out = x.copy()", RELU_FORWARD_LINE, lambda _: True)

RELU_BACKWARD_IN_PLACE = Mistake(
    "Relu changing dout in place",
    "backward wrote zeros into the caller's dout: the book's dout[self.mask] = 0 is harmless only while no one "
    "reads dout again; PyTorch's autograd never writes into a gradient it was handed: write into dx = dout.copy()",
    RELU_BACKWARD_LINE, lambda _: True)


def check_relu_in_place(grader):
    """forward leaves the caller's x unchanged (with --semantics pytorch, backward the caller's dout too)

    The book's own backward writes ``dout[self.mask] = 0`` into the dout it was
    given, harmless in its networks, so only PyTorch's semantics (autograd never
    writes into a gradient it was handed) asks for a copy.
    """
    x, dout = one_input_arrays(grader, 1, 4, np.float64)
    node = grader.call("Relu()", grader.learner)
    given_x, given_dout = x.copy(), dout.copy()
    grader.call("forward", node.forward, given_x)
    grader.require(np.array_equal(given_x, x), "forward changed the x it was given (its negative entries are "
                   f"{given_x[x < 0][:3]} now, were {x[x < 0][:3]})", RELU_FORWARD_IN_PLACE)
    grader.call("backward", node.backward, given_dout)
    if grader.semantics == "pytorch":
        grader.require(np.array_equal(given_dout, dout), "backward changed the dout it was given",
                       RELU_BACKWARD_IN_PLACE)


def _relu(x):
    return np.maximum(x, 0)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


_RELU_CHECKS = one_input_checks("Relu", 1, _relu, "relu", relu_backward_mistakes, RELU_FORWARD_LINE,
                                RELU_BACKWARD_LINE)

RELU_LAYER = Task("relu_layer", 5, "5.5.1", "Relu", RELU_SKELETON,
                  (*_RELU_CHECKS[:2], check_relu_in_place, *_RELU_CHECKS[2:]))

SIGMOID_LAYER = Task("sigmoid_layer", 5, "5.5.2", "Sigmoid", SIGMOID_SKELETON,
                     one_input_checks("Sigmoid", 2, _sigmoid, "sigmoid", sigmoid_backward_mistakes,
                                      SIGMOID_FORWARD_LINE, SIGMOID_BACKWARD_LINE))


# ---------------------------------------------------------------------------
# Affine (5.6.2)
# ---------------------------------------------------------------------------

AFFINE_SKELETON = '''"""Affine, the fully connected layer (5.6.2): write forward and backward.

    forward:   out = x W + b        x (N, in), W (in, out), b (out,)  ->  out (N, out)
    backward:  dx = dout W^T        (N, in)
               dW = x^T dout        (in, out), W's shape
               db = sum of dout over the batch (axis 0)   (out,)

An input of more dimensions, (N, C, H, W) from a convolution, is flattened to
(N, C*H*W) in forward, and backward returns dx in the input's own shape.

Graded with --semantics pytorch, W is stored (out, in) like nn.Linear's weight:
out = x W^T + b, dx = dout W, dW = dout^T x (out, in).

Check it: python scripts/practice.py check affine
"""
import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None  # the gradients backward computes
        self.db = None

    def forward(self, x):
        raise NotImplementedError("flatten x to (N, -1), keep it, return x W + b")

    def backward(self, dout):
        raise NotImplementedError("set self.dW and self.db, return dx in x's original shape")
'''

IN, OUT = 5, 3  # not square: a transposed W or dW cannot pass unnoticed


def affine_case(grader, n, dtype, shape=None):
    """(W as the semantics stores it, b, x, dout) for a batch of ``n``; ``shape``: x's shape (default (n, IN))."""
    rng = grader.rng(5, n)
    W = rng.standard_normal((IN, OUT)).astype(dtype)
    b = rng.standard_normal(OUT).astype(dtype)
    x = rng.standard_normal(shape or (n, IN)).astype(dtype)
    dout = rng.standard_normal((n, OUT)).astype(dtype)
    return (W if grader.semantics == "book" else np.ascontiguousarray(W.T)), b, x, dout


AFFINE_LINES = {
    "book": {"forward": "Affine.forward: out = np.dot(self.x, self.W) + self.b",
             "dx": "Affine.backward: dx = np.dot(dout, self.W.T)",
             "dW": "Affine.backward: self.dW = np.dot(self.x.T, dout)"},
    "pytorch": {"forward": "Affine.forward: out = self.x @ self.W.T + self.b (scratch/layers.py)",
                "dx": "Affine.backward: dx = dout @ self.W (scratch/layers.py)",
                "dW": "Affine.backward: self.dW = dout.T @ self.x (scratch/layers.py)"},
}
AFFINE_LAYOUT = {  # how each semantics stores W, and its formulas
    "book": {"W": "(in, out)", "forward": "x W", "wrong forward": "x W^T", "dx": "dout W^T", "dW": "x^T dout"},
    "pytorch": {"W": "(out, in), like nn.Linear's weight", "forward": "x W^T", "wrong forward": "x W",
                "dx": "dout W", "dW": "dout^T x"},
}


def _shapes_mismatch(err):
    return isinstance(err, ValueError) and ("align" in str(err) or "mismatch" in str(err))


def affine_forward_mistakes(semantics):
    """forward's mistakes in ``semantics``' layout: W used the other way round."""
    layout, who = AFFINE_LAYOUT[semantics], "the book stores" if semantics == "book" else "--semantics pytorch stores"
    return (Mistake("W used transposed",
                    f"{who} W as {layout['W']}, so forward is {layout['forward']}, not {layout['wrong forward']}",
                    AFFINE_LINES[semantics]["forward"], _shapes_mismatch),)


def affine_backward_exception_mistakes(semantics):
    """backward's exceptions in ``semantics``' layout: dx computed with W the other way round."""
    layout = AFFINE_LAYOUT[semantics]
    return (Mistake("W used transposed in dx", f"with W stored {layout['W']}, dx = {layout['dx']}",
                    AFFINE_LINES[semantics]["dx"], _shapes_mismatch),)


def affine_pass(grader, layer_class, W, b, x, dout):
    """forward then backward of ``layer_class(W, b)``: (out, dx, dW, db); the learner's code through grader.call."""
    layer = grader.call("Affine(W, b)", layer_class, W.copy(), b.copy())
    out = grader.call("forward", layer.forward, x.copy(), mistakes=affine_forward_mistakes(grader.semantics))
    dx = grader.call("backward", layer.backward, dout.copy(),
                     mistakes=affine_backward_exception_mistakes(grader.semantics))
    return out, dx, layer.dW, layer.db


def affine_backward_mistakes(grader, W, x):
    """dW's, db's and dx's mistakes, their texts in the layout of the semantics being graded."""
    layout, lines = AFFINE_LAYOUT[grader.semantics], AFFINE_LINES[grader.semantics]
    n, out = x.shape[0], W.shape[1] if grader.semantics == "book" else W.shape[0]
    return {
        "dW": (Mistake("dW transposed",
                       f"dW must have W's shape {W.shape}, W stored {layout['W']}: dW = {layout['dW']}",
                       lines["dW"], lambda dW: tuple(np.shape(dW)) == W.shape[::-1]),),
        "db": (Mistake("db not summed over the batch", f"db must have b's shape ({out},): every sample adds its dout",
                       "Affine.backward: self.db = np.sum(dout, axis=0)",
                       lambda db: tuple(np.shape(db)) == (n, out)),),
        "dx": (Mistake("dx not restored to the input's shape",
                       f"forward flattened x of shape {x.shape}; backward must return dx in that shape",
                       "Affine.backward: dx = dx.reshape(*self.original_x_shape)",
                       lambda dx: np.shape(dx) != x.shape and np.size(dx) == x.size),),
    }


def check_affine_forward(grader):
    """forward equals the book's Affine (batches of 1 and 4, float64)"""
    for n in (1, 4):
        W, b, x, dout = affine_case(grader, n, np.float64)
        out, *_ = affine_pass(grader, grader.learner, W, b, x, dout)
        expected = grader.expected.Affine(W, b).forward(x)
        grader.compare(f"forward, batch {n}", out, expected, affine_forward_mistakes(grader.semantics),
                       AFFINE_LINES[grader.semantics]["forward"])


def check_affine_backward(grader):
    """backward: dx, dW and db equal the book's (batches of 1 and 4, float64)"""
    for n in (1, 4):
        W, b, x, dout = affine_case(grader, n, np.float64)
        _, dx, dW, db = affine_pass(grader, grader.learner, W, b, x, dout)
        reference = grader.expected.Affine(W, b)
        reference.forward(x)
        expected_dx = reference.backward(dout)
        mistakes = affine_backward_mistakes(grader, W, x)
        for name, received, expected in (("dW", dW, reference.dW), ("db", db, reference.db), ("dx", dx, expected_dx)):
            grader.compare(f"{name}, batch {n}", received, expected, mistakes[name])


def check_affine_torch(grader):
    """forward equals F.linear and dx, dW, db equal autograd's (PyTorch, float64)"""
    import torch
    import torch.nn.functional as F

    W, b, x, dout = affine_case(grader, 4, np.float64)
    out, dx, dW, db = affine_pass(grader, grader.learner, W, b, x, dout)
    weight = torch.tensor(W.T if grader.semantics == "book" else W, requires_grad=True)  # nn.Linear's (out, in)
    bias = torch.tensor(b, requires_grad=True)
    inputs = torch.tensor(x, requires_grad=True)
    expected = F.linear(inputs, weight, bias)
    expected.backward(torch.tensor(dout))
    grad_W = weight.grad.numpy().T if grader.semantics == "book" else weight.grad.numpy()
    mistakes = affine_backward_mistakes(grader, W, x)
    grader.compare("forward against F.linear", out, expected.detach().numpy(),
                   affine_forward_mistakes(grader.semantics))
    grader.compare("dW against autograd", dW, grad_W, mistakes["dW"])
    grader.compare("db against autograd", db, bias.grad.numpy(), mistakes["db"])
    grader.compare("dx against autograd", dx, inputs.grad.numpy(), mistakes["dx"])


def check_affine_numerical(grader):
    """dW equals a numerical gradient of sum(forward(x) * dout)"""
    W, b, x, dout = affine_case(grader, 4, np.float64)
    _, _, dW, _ = affine_pass(grader, grader.learner, W, b, x, dout)

    def loss(weights):
        return float(np.sum(grader.expected.Affine(weights, b).forward(x) * dout))

    grader.compare("dW against central differences", dW, grader.numerical_gradient(loss, W),
                   affine_backward_mistakes(grader, W, x)["dW"], rtol=1e-7)


def check_affine_float32(grader):
    """float32 weights and input: the book's numbers to 1e-5"""
    W, b, x, dout = affine_case(grader, 4, np.float32)
    out, dx, dW, db = affine_pass(grader, grader.learner, W, b, x, dout)
    reference = grader.expected.Affine(W, b)
    grader.compare("forward, float32", out, reference.forward(x), rtol=1e-5)
    grader.compare("dx, float32", dx, reference.backward(dout), rtol=1e-5)


def check_affine_4d(grader):
    """a 4-D input (2, 1, 1, 5): forward flattens it, backward returns dx of the input's shape"""
    W, b, x, dout = affine_case(grader, 2, np.float64, shape=(2, 1, 1, IN))
    out, dx, dW, db = affine_pass(grader, grader.learner, W, b, x, dout)
    reference = grader.expected.Affine(W, b)
    grader.compare("forward of a 4-D input", out, reference.forward(x), affine_forward_mistakes(grader.semantics))
    grader.compare("dx of a 4-D input", dx, reference.backward(dout), affine_backward_mistakes(grader, W, x)["dx"],
                   "Affine.backward: dx = dx.reshape(*self.original_x_shape)")


AFFINE = Task("affine", 5, "5.6.2", "Affine", AFFINE_SKELETON,
              (check_affine_forward, check_affine_backward, check_affine_torch, check_affine_numerical,
               check_affine_float32, check_affine_4d))


# ---------------------------------------------------------------------------
# SoftmaxWithLoss (5.6.3)
# ---------------------------------------------------------------------------

SOFTMAX_WITH_LOSS_SKELETON = '''"""SoftmaxWithLoss, softmax then cross-entropy (5.6.3): write forward and backward.

    forward:   y = softmax(x)                         x (N, classes) scores -> y (N, classes)
               loss = cross_entropy_error(y, t)       -1/N sum_n log y[n, t_n], a scalar
    backward:  dx = (y - t) / N                       (N, classes), t as one-hot rows
               divided by the batch size N once: the loss is the batch's mean

t holds labels (N,) or one-hot rows (N, classes), and both must work: with
labels, y - t is dx = y.copy(); dx[np.arange(N), t] -= 1.

The book's cross_entropy_error adds 1e-7 inside the log. Graded with
--semantics pytorch (F.cross_entropy adds nothing), import scratch.functions'
cross_entropy_error instead.

Check it: python scripts/practice.py check softmax_with_loss
"""
import numpy as np

from scratch.book.functions import cross_entropy_error, softmax  # or your own: from softmax import softmax


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None  # softmax's output
        self.t = None  # the labels or one-hot rows

    def forward(self, x, t):
        raise NotImplementedError("keep t and y = softmax(x), return the loss cross_entropy_error(y, t)")

    def backward(self, dout=1):
        raise NotImplementedError("return (y - t) / N, for t as labels and as one-hot rows")
'''

CLASSES = 3  # not the batch size 4: a label vector cannot broadcast against the scores unnoticed
SWL_FORWARD_LINE = "SoftmaxWithLoss.forward: self.y = softmax(x); self.loss = cross_entropy_error(self.y, self.t)"
SWL_BACKWARD_LINE = "SoftmaxWithLoss.backward: dx = (self.y - self.t) / batch_size"
SWL_LABELS_LINE = "SoftmaxWithLoss.backward: dx = self.y.copy(); dx[np.arange(batch_size), self.t] -= 1"


def softmax_case(grader, n, dtype, shift=0.0):
    """(x, labels, one-hot rows) for a batch of ``n``: scores (n, 3), ``shift`` added to every score."""
    rng = grader.rng(56, n)
    x = (rng.standard_normal((n, CLASSES)) * 2 + shift).astype(dtype)
    labels = rng.integers(0, CLASSES, n)
    return x, labels, np.eye(CLASSES, dtype=dtype)[labels]


def softmax_pass(grader, layer_class, x, t, book_backward_mistakes=()):
    """forward then backward(1) of ``layer_class()`` on (x, t): (loss, dx); the learner's through grader.call."""
    layer = grader.call("SoftmaxWithLoss()", layer_class)
    loss = grader.call("forward", layer.forward, x.copy(), t.copy())
    dx = grader.call("backward", layer.backward, 1, mistakes=book_backward_mistakes)
    return loss, dx


def softmax_reference(grader, x, t):
    """(loss, dx) of the graded package's SoftmaxWithLoss."""
    layer = grader.expected.SoftmaxWithLoss()
    return layer.forward(x, t), layer.backward(1)


def pure_loss(x, labels):
    """-1/N sum_n log softmax(x)[n, t_n] in float64, no 1e-7 (F.cross_entropy's)."""
    x = np.asarray(x, dtype=np.float64)
    shifted = x - x.max(axis=1, keepdims=True)
    log_y = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.mean(log_y[np.arange(x.shape[0]), labels])


def loss_mistakes(grader, x, labels, expected):
    """The loss's mistakes: a sum instead of the mean, and the other semantics' 1e-7."""
    n = x.shape[0]
    book = grader.semantics == "book"
    name, other = ("cross-entropy without the book's 1e-7", pure_loss(x, labels)) if book else \
        ("cross-entropy with the book's 1e-7", book_loss(x, labels))
    return (Mistake("loss not averaged over the batch", "cross_entropy_error is the batch's mean: it divides by N",
                    "cross_entropy_error: the sum over the batch divided by batch_size",
                    lambda loss: n > 1 and _close(loss, expected * n)),
            Mistake(name,
                    ("the book adds 1e-7 inside the log: import scratch.book.functions' cross_entropy_error" if book
                     else "--semantics pytorch is F.cross_entropy, nothing added inside the log: import "
                     "scratch.functions' cross_entropy_error"),
                    SWL_FORWARD_LINE, lambda loss: _close(loss, other, 1e-12)))


def book_loss(x, labels):
    """The book's loss: -1/N sum_n log(softmax(x)[n, t_n] + 1e-7), in float64."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    return -np.sum(np.log(y[np.arange(x.shape[0]), labels] + 1e-7)) / x.shape[0]


def dx_mistakes(x, labels, expected):
    """dx's mistakes: the division by N missing or done twice; labels taken as one-hot rows."""
    n = x.shape[0]
    y = expected * n + np.eye(x.shape[1])[labels]  # softmax(x), recovered from (y - t) / N
    return (Mistake("dx not divided by the batch size",
                    "the loss is the batch's mean, so each sample's gradient y - t is divided by N",
                    SWL_BACKWARD_LINE, lambda dx: n > 1 and _close(dx, expected * n)),
            Mistake("dx divided by the batch size twice",
                    "divide y - t by N once: cross_entropy_error already averages the loss, backward "
                    "divides its gradient by N once (not dout / N and again / N)",
                    SWL_BACKWARD_LINE, lambda dx: n > 1 and _close(dx, expected / n)),
            labels_as_one_hot(lambda dx: _close(dx, (y - labels) / n)))


def labels_as_one_hot(matches):
    """The mistake of a backward that takes labels t for one-hot rows, told by ``matches``."""
    return Mistake("t taken as one-hot rows when it holds labels",
                   "t may hold labels (N,): then y - t broadcasts wrongly; subtract 1 at each label: "
                   "dx = y.copy(); dx[np.arange(N), t] -= 1", SWL_LABELS_LINE, matches)


LABELS_AS_ONE_HOT = labels_as_one_hot(
    lambda err: isinstance(err, ValueError) and "broadcast" in str(err))

ONE_HOT_AS_LABELS = Mistake(
    "t taken as labels when it holds one-hot rows",
    "t may hold one-hot rows (N, classes), as the book's MNIST with one_hot_label=True: then dx = (y - t) / N "
    "(the book tests t.size == y.size)", SWL_BACKWARD_LINE,
    lambda err: isinstance(err, IndexError) or (isinstance(err, ValueError) and "broadcast" in str(err)))


def check_softmax_forward(grader):
    """forward: the loss equals the book's (labels, batches of 1 and 4, float64)"""
    for n in (1, 4):
        x, labels, _ = softmax_case(grader, n, np.float64)
        loss, _ = softmax_pass(grader, grader.learner, x, labels, (LABELS_AS_ONE_HOT,))
        expected, _ = softmax_reference(grader, x, labels)
        grader.compare(f"loss, batch {n}", loss, expected, loss_mistakes(grader, x, labels, expected),
                       SWL_FORWARD_LINE)


def check_softmax_backward(grader):
    """backward: dx equals the book's (y - t) / N (labels, batches of 1 and 4, float64)"""
    for n in (4, 1):
        x, labels, _ = softmax_case(grader, n, np.float64)
        _, dx = softmax_pass(grader, grader.learner, x, labels, (LABELS_AS_ONE_HOT,))
        _, expected = softmax_reference(grader, x, labels)
        grader.compare(f"dx, batch {n}", dx, expected, dx_mistakes(x, labels, expected), SWL_BACKWARD_LINE)


def check_softmax_one_hot(grader):
    """one-hot t (batches of 4 and 1): the same loss and dx as with labels"""
    for n in (4, 1):
        x, labels, one_hot = softmax_case(grader, n, np.float64)
        loss, dx = softmax_pass(grader, grader.learner, x, one_hot, (ONE_HOT_AS_LABELS,))
        expected_loss, expected_dx = softmax_reference(grader, x, labels)
        grader.compare(f"loss with one-hot t, batch {n}", loss, expected_loss,
                       loss_mistakes(grader, x, labels, expected_loss), SWL_FORWARD_LINE)
        grader.compare(f"dx with one-hot t, batch {n}", dx, expected_dx, dx_mistakes(x, labels, expected_dx)[:2],
                       SWL_BACKWARD_LINE)


def check_softmax_torch(grader):
    """the loss equals PyTorch's and dx equals F.cross_entropy's autograd (float64)"""
    import torch
    import torch.nn.functional as F

    x, labels, _ = softmax_case(grader, 4, np.float64)
    loss, dx = softmax_pass(grader, grader.learner, x, labels, (LABELS_AS_ONE_HOT,))
    scores, targets = torch.tensor(x, requires_grad=True), torch.tensor(labels)
    if grader.semantics == "book":  # the book's 1e-7 inside the log, in torch's operators
        what, expected = "loss against nll_loss(log(softmax + 1e-7))", \
            F.nll_loss(torch.log(torch.softmax(scores.detach(), dim=1) + 1e-7), targets)
    else:
        what, expected = "loss against F.cross_entropy", F.cross_entropy(scores.detach(), targets)
    F.cross_entropy(scores, targets).backward()  # the book's backward leaves the 1e-7 out: the same dx
    grader.compare(what, loss, expected.numpy(), loss_mistakes(grader, x, labels, expected.item()),
                   SWL_FORWARD_LINE)
    grader.compare("dx against F.cross_entropy's autograd", dx, scores.grad.numpy(),
                   dx_mistakes(x, labels, scores.grad.numpy()), SWL_BACKWARD_LINE)


def check_softmax_numerical(grader):
    """dx equals a numerical gradient of the loss -1/N sum_n log softmax(x)[n, t_n]"""
    x, labels, _ = softmax_case(grader, 4, np.float64)
    _, dx = softmax_pass(grader, grader.learner, x, labels, (LABELS_AS_ONE_HOT,))
    numerical = grader.numerical_gradient(lambda v: pure_loss(v, labels), x)
    grader.compare("dx against central differences", dx, numerical, dx_mistakes(x, labels, numerical),
                   SWL_BACKWARD_LINE, rtol=1e-7)


def check_softmax_float32(grader):
    """float32 scores: the book's numbers to 1e-5"""
    x, labels, _ = softmax_case(grader, 4, np.float32)
    loss, dx = softmax_pass(grader, grader.learner, x, labels, (LABELS_AS_ONE_HOT,))
    expected_loss, expected_dx = softmax_reference(grader, x, labels)
    grader.compare("loss, float32", loss, expected_loss, rtol=1e-5)
    grader.compare("dx, float32", dx, expected_dx, rtol=1e-5)


SOFTMAX_OVERFLOW = Mistake(
    "softmax without subtracting the maximum",
    "exp(1000) overflows to inf and inf / inf is NaN: softmax subtracts each row's maximum first, "
    "which changes nothing else (3.5.2)", "softmax: exp_a = np.exp(a - np.max(a))",
    lambda received: not np.all(np.isfinite(np.asarray(received, dtype=np.float64))))


def check_softmax_large_scores(grader):
    """scores near 1000: no overflow, the same loss and dx as near 0"""
    x, labels, _ = softmax_case(grader, 4, np.float64, shift=1000.0)
    loss, dx = softmax_pass(grader, grader.learner, x, labels, (LABELS_AS_ONE_HOT,))
    expected_loss, expected_dx = softmax_reference(grader, x, labels)
    grader.compare("loss of scores near 1000", loss, expected_loss, (SOFTMAX_OVERFLOW,), rtol=1e-8)
    grader.compare("dx of scores near 1000", dx, expected_dx, (SOFTMAX_OVERFLOW,), rtol=1e-8)


SOFTMAX_WITH_LOSS = Task("softmax_with_loss", 5, "5.6.3", "SoftmaxWithLoss", SOFTMAX_WITH_LOSS_SKELETON,
                         (check_softmax_forward, check_softmax_backward, check_softmax_one_hot,
                          check_softmax_torch, check_softmax_numerical, check_softmax_float32,
                          check_softmax_large_scores))


TASKS = (MUL_LAYER, ADD_LAYER, RELU_LAYER, SIGMOID_LAYER, AFFINE, SOFTMAX_WITH_LOSS)
