"""Deep Q-Network (8.4, reinforcement learning; Mnih et al., Nature 2015): the pieces, in NumPy.

A Q-network scores every action a in a state s; DQN trains Q(s, a) of the action taken towards the
temporal-difference target of a slowly following copy of the network (the target network):

    q     = Q(s)[n, a_n]                                            (N,)   ``Gather``
    y     = r + gamma * (1 - terminated) * max_a Q_target(s', a)    (N,)   ``td_targets``
            Double DQN: Q_target(s', argmax_a Q_online(s', a))
    L     = mean over n of huber(q - y)                                    ``HuberLoss``

``terminated`` is 1 where s' ends the episode (the pole fell): nothing follows, so nothing is added.
An episode cut by a time limit (truncated) is not terminated: its s' still has a future, and its
target keeps the bootstrap term. The target y is data: no gradient flows into it (PyTorch computes it
under ``torch.no_grad``).

The replay buffer and the epsilon-greedy choice are data and dice, not arithmetic: one NumPy version,
which ``reference.dqn`` shares, so that both backends see the same minibatches and act alike.
"""
import math
import numbers

import numpy as np

from .checks import check_dout, check_forward_done, check_size, dtype_of
from .layers import Relu
from .network_base import Network
from .optimizer import Adam
from .smooth_l1 import check_smooth_l1_input
from .time_layers import clip_grads
from .weight_init import make_rng

__all__ = ["Gather", "HuberLoss", "td_targets", "QNetwork", "ReplayBuffer", "linear_epsilon", "epsilon_greedy",
           "DQNAgent"]


# --- checks, shared with reference.dqn (they read only .shape and .dtype, and the action values)

def check_actions(q_shape, actions, who="Gather"):
    """Scores (N, A) and integer actions (N,) in [0, A); returns the actions as an int64 NumPy array."""
    actions = np.asarray(actions)
    if len(q_shape) != 2 or q_shape[0] == 0:
        raise ValueError(f"{who} expects action values of shape (N, A), N >= 1, got {tuple(q_shape)}")
    if actions.dtype.kind not in "iu":
        raise TypeError(f"{who} expects integer actions, got dtype {actions.dtype}")
    if actions.shape != (q_shape[0],):
        raise ValueError(f"{who}: {q_shape[0]} rows of action values but actions of shape {actions.shape}; "
                         f"give one action per row")
    if actions.min() < 0 or actions.max() >= q_shape[1]:
        raise ValueError(f"{who}: actions must lie in [0, {q_shape[1]}), got range [{actions.min()}, {actions.max()}]")
    return actions.astype(np.int64, copy=False)


def check_huber_delta(delta, who="HuberLoss"):
    """delta a finite number > 0; returns it as a float."""
    if isinstance(delta, bool) or not isinstance(delta, numbers.Real) or not (math.isfinite(delta) and delta > 0):
        raise ValueError(f"{who}: delta must be a finite number > 0, got {delta!r}")
    return float(delta)


def check_huber_input(x, t, who="HuberLoss"):
    """Floating predictions and targets of one shape and dtype: the smooth L1 loss's rule."""
    check_smooth_l1_input(x, t, who)


def check_td_inputs(rewards, next_q, terminated, next_q_online, who="td_targets"):
    """rewards (N,), next_q (N, A), terminated (N,) of 0/1 or booleans; next_q_online like next_q."""
    if len(next_q.shape) != 2 or tuple(rewards.shape) != (next_q.shape[0],):
        raise ValueError(f"{who}: rewards of shape {tuple(rewards.shape)} and next action values of shape "
                         f"{tuple(next_q.shape)}; expected (N,) and (N, A)")
    if tuple(terminated.shape) != tuple(rewards.shape):
        raise ValueError(f"{who}: terminated of shape {tuple(terminated.shape)} for rewards of shape "
                         f"{tuple(rewards.shape)}")
    if next_q_online is not None and tuple(next_q_online.shape) != tuple(next_q.shape):
        raise ValueError(f"{who}: next_q_online of shape {tuple(next_q_online.shape)} differs from next_q's "
                         f"{tuple(next_q.shape)}")


# --- layers

class Gather:
    """Q(s, a) of the taken actions: out[n] = q[n, actions[n]], as ``q.gather(1, actions[:, None])``.

        forward:   out = q[arange(N), actions]                      (N, A) -> (N,)
        backward:  dq = 0; dq[n, actions[n]] = dout[n]: only the chosen action's value gets a gradient
    """

    def __init__(self):
        self.q_shape = None
        self.actions = None

    def forward(self, q, actions):
        self.actions = check_actions(q.shape, actions)
        self.q_shape, self.dtype = q.shape, q.dtype
        return q[np.arange(len(q)), self.actions]

    def backward(self, dout):
        check_forward_done(self.actions, "Gather")
        check_dout(dout, self.q_shape[:1], "Gather")
        dq = np.zeros(self.q_shape, dtype=self.dtype)
        dq[np.arange(len(dq)), self.actions] = dout
        return dq


class HuberLoss:
    """The Huber loss, mean over the elements, exactly ``F.huber_loss(x, t, delta=delta)``:

        l(d) = 0.5 d^2                   if |d| < delta          d = x - t
             = delta (|d| - 0.5 delta)   otherwise
        dL/dx = clip(d, -delta, delta) / d.size

    Quadratic near 0 and linear beyond delta, so that one surprising transition cannot blow up a
    step (DQN's "error clipping"). ``SmoothL1Loss`` is the same curve divided by beta:
    huber_delta(d) = delta * smooth_l1_beta=delta(d); for delta = 1 the two are equal.
    """

    def __init__(self, delta=1.0):
        self.delta = check_huber_delta(delta)
        self.diff = None

    def forward(self, x, t):
        check_huber_input(x, t)
        d = self.diff = x - t
        a, delta = np.abs(d), d.dtype.type(self.delta)
        l = np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
        return np.sum(l, dtype=d.dtype) / d.dtype.type(d.size)

    def backward(self, dout=1):
        check_forward_done(self.diff, "HuberLoss")
        check_dout(dout, (), "HuberLoss")
        d, delta = self.diff, self.diff.dtype.type(self.delta)
        return np.clip(d, -delta, delta) * (d.dtype.type(dout) / d.dtype.type(d.size))


def td_targets(rewards, next_q, terminated, gamma, next_q_online=None):
    """DQN's temporal-difference targets (N,): r + gamma * (1 - terminated) * v', where v' is
    max_a next_q[n, a] (the target network's values of s'), or, for Double DQN (``next_q_online``
    given, the online network's values of s'), next_q[n, argmax_a next_q_online[n, a]]."""
    rewards, next_q, terminated = np.asarray(rewards), np.asarray(next_q), np.asarray(terminated)
    check_td_inputs(rewards, next_q, terminated, None if next_q_online is None else np.asarray(next_q_online))
    if next_q_online is None:
        value = next_q.max(axis=1)
    else:
        value = next_q[np.arange(len(next_q)), np.argmax(next_q_online, axis=1)]
    dtype = next_q.dtype.type
    return rewards.astype(next_q.dtype) + dtype(gamma) * (1 - terminated.astype(next_q.dtype)) * value


# --- the Q-network

class QNetwork(Network):
    """A Q-network: an MLP (Affine - Relu per hidden layer, then Affine) scoring ``num_actions`` actions,
    trained with the Huber loss of the taken actions' values against their TD targets.

        predict(states)                     (N, input_size) -> Q (N, num_actions)
        loss(states, actions, targets)      mean huber(Gather(Q, actions) - targets)
        gradient(states, actions, targets)  {"W1", "b1", ...}: backpropagation through the loss,
                                            Gather (only the taken actions) and the MLP

    Weights (out, in) as ``nn.Linear``'s, drawn with ``weight_init_std`` ('he' by default); biases 0.
    """

    def __init__(self, input_size=4, hidden_sizes=(128, 128), num_actions=2, delta=1.0, weight_init_std="he",
                 dtype="float32", seed=None):
        sizes = [check_size(input_size, "input_size", "QNetwork"),
                 *(check_size(h, "hidden_sizes", "QNetwork") for h in hidden_sizes),
                 check_size(num_actions, "num_actions", "QNetwork")]
        self.dtype = dtype_of(dtype)
        rng = make_rng(seed)
        self.params, self.layers = {}, []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            self.params[f"W{i}"] = self._init_weight((fan_out, fan_in), weight_init_std, rng)
            self.params[f"b{i}"] = np.zeros(fan_out, dtype=self.dtype)
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
        return self.last_layer.forward(q, np.asarray(targets).astype(self.dtype, copy=False))

    def gradient(self, x, actions, targets):
        """Backpropagation; the loss is kept as ``last_loss``."""
        self.last_loss = self.loss(x, actions, targets)
        dout = self.gather.backward(self.last_layer.backward(1))
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        affine = [layer for layer in self.layers if not isinstance(layer, Relu)]
        grads = {}
        for i, layer in enumerate(affine, start=1):
            grads[f"W{i}"], grads[f"b{i}"] = layer.dW, layer.db
        return grads


# --- data and dice (shared by reference.dqn)

class ReplayBuffer:
    """Experience replay: a ring of the last ``capacity`` transitions (s, a, r, s', terminated), and
    minibatches drawn uniformly, with replacement, from a NumPy generator of its own (``seed``)."""

    def __init__(self, capacity, state_size, seed=None, dtype="float32"):
        self.capacity = check_size(capacity, "capacity", "ReplayBuffer")
        dtype = dtype_of(dtype)
        self.states = np.zeros((self.capacity, check_size(state_size, "state_size", "ReplayBuffer")), dtype=dtype)
        self.next_states = np.zeros_like(self.states)
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity, dtype=dtype)
        self.terminated = np.zeros(self.capacity, dtype=dtype)
        self.size, self.position = 0, 0
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return self.size

    def push(self, state, action, reward, next_state, terminated):
        """Store one transition, over the oldest once the ring is full."""
        i = self.position
        self.states[i], self.actions[i], self.rewards[i] = state, action, reward
        self.next_states[i], self.terminated[i] = next_state, float(terminated)
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size):
        """(states, actions, rewards, next_states, terminated) of ``batch_size`` stored transitions."""
        if self.size == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty; push transitions first")
        i = self.rng.integers(0, self.size, check_size(batch_size, "batch_size", "ReplayBuffer.sample"))
        return self.states[i], self.actions[i], self.rewards[i], self.next_states[i], self.terminated[i]


def linear_epsilon(step, start=1.0, end=0.05, decay_steps=10000):
    """The exploration rate at ``step``: from ``start`` down to ``end`` in a straight line over
    ``decay_steps`` steps, then ``end``."""
    return end + (start - end) * max(0.0, 1.0 - step / decay_steps)


def epsilon_greedy(q_values, epsilon, rng):
    """An action for one state: with probability epsilon a uniformly random one, else the best by
    ``q_values`` (A,) (the first of equal values). One ``rng.random()`` every call, and one
    ``rng.integers`` when exploring, so that both backends draw alike."""
    q_values = np.asarray(q_values)
    if rng.random() < epsilon:
        return int(rng.integers(len(q_values)))
    return int(np.argmax(q_values))


# --- the agent

class DQNAgent:
    """DQN's learner: an online and a target ``QNetwork``, experience replay, epsilon-greedy actions.

        act(state, step)    epsilon-greedy on the online network's Q(state), epsilon = linear_epsilon(step)
        remember(s, a, r, s', terminated)                       into the replay buffer
        update()            once the buffer holds ``batch_size``: sample a minibatch, y = td_targets
                            (the target network's values of s'; Double DQN: chosen by the online one),
                            gradient of the Huber loss, clipped to ``max_grad_norm`` (global norm), one
                            Adam step; every ``target_sync`` updates the target network copies the online one

    One NumPy generator (``seed``) seeds the networks, the buffer's sampling and the dice, so that the
    same seed takes the same actions and learns the same weights in both backends.
    ``reference.dqn.DQNAgent`` is this class with PyTorch's network, Adam and clipping (the hooks below).
    """

    network_class, optimizer_class = QNetwork, Adam  # the hooks
    targets, clip, choose = staticmethod(td_targets), staticmethod(clip_grads), staticmethod(epsilon_greedy)

    def __init__(self, state_size=4, num_actions=2, hidden_sizes=(128, 128), gamma=0.99, lr=1e-3, batch_size=64,
                 buffer_size=50000, target_sync=500, max_grad_norm=10.0, double=False, epsilon_start=1.0,
                 epsilon_end=0.05, epsilon_decay_steps=10000, dtype="float32", seed=None):
        rng = np.random.default_rng(seed)
        net_seed, buffer_seed, self.seed_dice = (int(n) for n in rng.integers(2**31, size=3))
        self.online, self.target = (self.network(state_size, hidden_sizes, num_actions, dtype, net_seed)
                                    for _ in range(2))
        self.optimizer = self.optimizer_class(lr=lr)
        self.buffer = ReplayBuffer(buffer_size, state_size, seed=buffer_seed, dtype=dtype)
        self.dice = np.random.default_rng(self.seed_dice)
        self.gamma, self.batch_size, self.target_sync = gamma, batch_size, target_sync
        self.max_grad_norm, self.double = max_grad_norm, double
        self.epsilon = dict(start=epsilon_start, end=epsilon_end, decay_steps=epsilon_decay_steps)
        self.updates = 0

    def network(self, state_size, hidden_sizes, num_actions, dtype, seed):
        """A Q-network with the NumPy QNetwork's initial weights for ``seed`` (the same in both backends)."""
        start = QNetwork(state_size, hidden_sizes, num_actions, dtype=dtype, seed=seed)
        return self.network_class(state_size, hidden_sizes, num_actions, dtype=dtype).load_params(start.params)

    def act(self, state, step=None):
        """An action for ``state`` (state_size,): greedy when ``step`` is None, else epsilon-greedy."""
        q = self.online.predict(np.asarray(state)[None])[0]
        epsilon = 0.0 if step is None else linear_epsilon(step, **self.epsilon)
        return self.choose(q, epsilon, self.dice)

    def remember(self, state, action, reward, next_state, terminated):
        self.buffer.push(state, action, reward, next_state, terminated)

    def update(self):
        """One learning step from a replayed minibatch; returns its loss (None while the buffer is short)."""
        if len(self.buffer) < self.batch_size:
            return None
        states, actions, rewards, next_states, terminated = self.buffer.sample(self.batch_size)
        online_next = self.online.predict(next_states) if self.double else None
        y = self.targets(rewards, self.target.predict(next_states), terminated, self.gamma, online_next)
        grads = self.online.gradient(states, actions, y)
        self.clip(grads, self.max_grad_norm)
        self.optimizer.update(self.online.params, grads)
        self.updates += 1
        if self.updates % self.target_sync == 0:
            self.target.load_params(self.online.params)
        return float(self.online.last_loss)
