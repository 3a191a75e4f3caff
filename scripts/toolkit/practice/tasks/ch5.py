"""Chapter 5's practice tasks: the layers of backpropagation (5.4-5.6)."""
import numpy as np

from ..task import Mistake, Task

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


def affine_pass(grader, layer_class, W, b, x, dout):
    """forward then backward of ``layer_class(W, b)``: (out, dx, dW, db); the learner's code through grader.call."""
    layer = grader.call("Affine(W, b)", layer_class, W.copy(), b.copy())
    out = grader.call("forward", layer.forward, x.copy(), mistakes=AFFINE_FORWARD_MISTAKES)
    dx = grader.call("backward", layer.backward, dout.copy())
    return out, dx, layer.dW, layer.db


AFFINE_FORWARD_MISTAKES = (
    Mistake("W used transposed", "the book stores W as (in, out), so forward is x W, not x W^T",
            "Affine.forward: out = np.dot(self.x, self.W) + self.b",
            lambda err: isinstance(err, ValueError) and ("align" in str(err) or "mismatch" in str(err))),
)


def affine_backward_mistakes(W, x):
    n, out = x.shape[0], W.shape[1] if W.shape[0] == IN else W.shape[0]
    return {
        "dW": (Mistake("dW transposed", f"dW must have W's shape {W.shape}: dW = x^T dout",
                       "Affine.backward: self.dW = np.dot(self.x.T, dout)",
                       lambda dW: tuple(np.shape(dW)) == W.shape[::-1]),),
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
        grader.compare(f"forward, batch {n}", out, expected, AFFINE_FORWARD_MISTAKES,
                       "Affine.forward: out = np.dot(self.x, self.W) + self.b")


def check_affine_backward(grader):
    """backward: dx, dW and db equal the book's (batches of 1 and 4, float64)"""
    for n in (1, 4):
        W, b, x, dout = affine_case(grader, n, np.float64)
        _, dx, dW, db = affine_pass(grader, grader.learner, W, b, x, dout)
        reference = grader.expected.Affine(W, b)
        reference.forward(x)
        expected_dx = reference.backward(dout)
        mistakes = affine_backward_mistakes(W, x)
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
    mistakes = affine_backward_mistakes(W, x)
    grader.compare("forward against F.linear", out, expected.detach().numpy(), AFFINE_FORWARD_MISTAKES)
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
                   affine_backward_mistakes(W, x)["dW"], rtol=1e-7)


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
    grader.compare("forward of a 4-D input", out, reference.forward(x), AFFINE_FORWARD_MISTAKES)
    grader.compare("dx of a 4-D input", dx, reference.backward(dout), affine_backward_mistakes(W, x)["dx"],
                   "Affine.backward: dx = dx.reshape(*self.original_x_shape)")


AFFINE = Task("affine", 5, "5.6.2", "Affine", AFFINE_SKELETON,
              (check_affine_forward, check_affine_backward, check_affine_torch, check_affine_numerical,
               check_affine_float32, check_affine_4d))

TASKS = (AFFINE,)
