"""Deep Q-Network (8.4), the pieces with PyTorch's operators: ``torch.gather`` for Q(s, a),
``F.huber_loss``, ``Tensor.max`` / ``torch.argmax`` for the TD targets, ``F.linear`` and ``F.relu``
(``reference.layers``) for the Q-network, gradients from autograd. The formulas, the checks, the
replay buffer and the epsilon-greedy choice are ``scratch.dqn``'s (data and dice are shared, so that
both backends see the same minibatches and take the same actions).
"""
import numpy as np
import torch
import torch.nn.functional as F

from scratch.checks import check_dout, check_forward_done, check_size
from scratch.dqn import (ReplayBuffer, check_actions, check_huber_delta, check_huber_input, check_td_inputs,
                         linear_epsilon)
from scratch.dqn import DQNAgent as _DQNAgent
from scratch.dqn import epsilon_greedy as _epsilon_greedy

from ._tensor import as_tensor, backprop, to_numpy, torch_dtype, track
from .layers import Relu
from .network_base import Network
from .optimizer import Adam
from .time_layers import clip_grads
from .weight_init import make_rng

__all__ = ["Gather", "HuberLoss", "td_targets", "QNetwork", "ReplayBuffer", "linear_epsilon", "epsilon_greedy",
           "DQNAgent"]


class Gather:
    """Q(s, a) of the taken actions: ``q.gather(1, actions[:, None])[:, 0]``; backward: autograd."""

    def __init__(self):
        self.q = None
        self.out = None

    def forward(self, q, actions):
        q = as_tensor(q)
        index = torch.from_numpy(check_actions(q.shape, to_numpy(actions)))
        self.q = track(q)
        self.out = self.q.gather(1, index[:, None])[:, 0]
        return self.out

    def backward(self, dout):
        check_forward_done(self.out, "Gather")
        check_dout(dout, tuple(self.out.shape), "Gather")
        (dq,) = backprop(self.out, (self.q,), as_tensor(dout))
        return dq


class HuberLoss:
    """The Huber loss, mean over the elements: ``F.huber_loss(x, t, delta=delta)``; backward: autograd."""

    def __init__(self, delta=1.0):
        self.delta = check_huber_delta(delta)
        self.x = None
        self.loss = None

    def forward(self, x, t):
        x, t = as_tensor(x), as_tensor(t)
        check_huber_input(x, t)
        self.x = track(x)
        self.loss = F.huber_loss(self.x, t.detach(), delta=self.delta)
        return self.loss

    def backward(self, dout=1):
        check_forward_done(self.loss, "HuberLoss")
        check_dout(dout, (), "HuberLoss")
        (dx,) = backprop(self.loss, (self.x,), dout)
        return dx


@torch.no_grad()
def td_targets(rewards, next_q, terminated, gamma, next_q_online=None):
    """DQN's TD targets (N,), a tensor without gradient: r + gamma * (1 - terminated) * v', v' the
    max over actions of ``next_q``, or (Double DQN) ``next_q`` at the argmax of ``next_q_online``."""
    rewards, next_q, terminated = as_tensor(rewards), as_tensor(next_q), as_tensor(terminated)
    online = None if next_q_online is None else as_tensor(next_q_online)
    check_td_inputs(rewards, next_q, terminated, online)
    if online is None:
        value = next_q.max(dim=1).values
    else:
        value = next_q.gather(1, torch.argmax(online, dim=1)[:, None])[:, 0]
    return rewards.to(next_q.dtype) + gamma * (1 - terminated.to(next_q.dtype)) * value


def epsilon_greedy(q_values, epsilon, rng):
    """``scratch.dqn.epsilon_greedy`` on the values as a NumPy array (the same dice, the same choice)."""
    return _epsilon_greedy(to_numpy(q_values), epsilon, rng)


class QNetwork(Network):
    """The Q-network of ``scratch.dqn.QNetwork`` with ``reference.layers``; one autograd pass from the loss."""

    def __init__(self, input_size=4, hidden_sizes=(128, 128), num_actions=2, delta=1.0, weight_init_std="he",
                 dtype="float32", seed=None):
        sizes = [check_size(input_size, "input_size", "QNetwork"),
                 *(check_size(h, "hidden_sizes", "QNetwork") for h in hidden_sizes),
                 check_size(num_actions, "num_actions", "QNetwork")]
        self.dtype = torch_dtype(dtype)
        rng = make_rng(seed)
        self.params, self.layers = {}, []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = self._init_weight((fan_out, fan_in), weight_init_std, rng)
            self.params[f"b{i}"] = torch.zeros(fan_out, dtype=self.dtype, requires_grad=True)
            self.layers.append(self._affine(self.params[f"W{i}"], self.params[f"b{i}"]))
            if i < len(sizes) - 1:
                self.layers.append(Relu())
        self.gather = Gather()
        self.last_layer = HuberLoss(delta)

    def predict(self, x):
        x = self._as_input(x)
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x, actions, targets):
        q = self.gather.forward(self.predict(x), actions)
        return self.last_layer.forward(q, as_tensor(np.asarray(to_numpy(targets))).to(self.dtype))

    def gradient(self, x, actions, targets):
        """Every parameter's gradient in one autograd pass; the loss is kept as ``last_loss``."""
        return self._autograd_gradient(self.loss(x, actions, targets))


class DQNAgent(_DQNAgent):
    """``scratch.dqn.DQNAgent``'s learner with this package's pieces: the ``QNetwork`` above (autograd),
    ``torch.optim.Adam`` (``reference.optimizer.Adam``), ``clip_grad_norm_``, the TD targets and the
    epsilon-greedy choice above."""

    network_class, optimizer_class = QNetwork, Adam
    targets, clip, choose = staticmethod(td_targets), staticmethod(clip_grads), staticmethod(epsilon_greedy)
