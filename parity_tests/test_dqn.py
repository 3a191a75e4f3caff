"""Parity of DQN's pieces (8.4): scratch.dqn against reference.dqn and PyTorch's own operators.

* ``Gather``: Q(s, a) of the taken actions and its gradient, which reaches only the chosen actions
  (``torch.gather``), float64 and float32, one row and many;
* ``HuberLoss``: ``F.huber_loss`` for several deltas (both sides of delta, exactly at it), and its
  relation to ``F.smooth_l1_loss`` (huber_delta = delta * smooth_l1_beta=delta);
* ``td_targets``: terminal transitions add nothing; Double DQN takes the online network's argmax;
* ``QNetwork``: the loss and every gradient equal in both backends; 100 steps of Adam in float64 on
  replayed minibatches give the same losses and weights;
* ``ReplayBuffer``, ``linear_epsilon``, ``epsilon_greedy``: the ring wraps, a seed repeats its draws;
* one-line errors.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from parameterized import parameterized

import reference.dqn as R
import reference.optimizer as RO
import scratch.dqn as S
import scratch.optimizer as SO
from conftest import DTYPES, assert_close, assert_same_error, make_rng, to_numpy

pytestmark = [pytest.mark.filterwarnings("error"), pytest.mark.usefixtures("one_torch_thread")]


class TestGather:
    @parameterized.expand([(f"{name}_{n}", n, dtype) for name, dtype in DTYPES for n in (1, 7)])
    def test_forward_backward(self, _, n, dtype):
        rng = make_rng(0)
        q, actions, dout = rng.standard_normal((n, 3)).astype(dtype), rng.integers(0, 3, n), rng.standard_normal(n)
        dout = dout.astype(dtype)
        qt = torch.from_numpy(q).requires_grad_(True)
        expected = qt.gather(1, torch.from_numpy(actions)[:, None])[:, 0]
        expected.backward(torch.from_numpy(dout))
        for layer, who in ((S.Gather(), "scratch"), (R.Gather(), "reference")):
            assert_close(layer.forward(q, actions), expected, dtype, what=f"{who} Q(s, a)")
            dq = to_numpy(layer.backward(dout))
            assert_close(dq, qt.grad, dtype, what=f"{who} dq")
            chosen = np.zeros(q.shape, dtype=bool)
            chosen[np.arange(n), actions] = True
            assert np.all(dq[~chosen] == 0), "a gradient reached an action that was not taken"


class TestHuberLoss:
    @parameterized.expand([(f"delta{delta}_{name}", delta, dtype)
                           for name, dtype in DTYPES for delta in (1.0, 0.5, 3.0)])
    def test_against_f_huber_loss(self, _, delta, dtype):
        rng = make_rng(1)
        x = (rng.standard_normal(40) * 3).astype(dtype)
        t = (rng.standard_normal(40) * 3).astype(dtype)
        t[:2] = x[:2] + np.array([delta, -delta], dtype=dtype)  # exactly at the kink
        xt = torch.from_numpy(x).requires_grad_(True)
        expected = F.huber_loss(xt, torch.from_numpy(t), delta=delta)
        expected.backward()
        for layer, who in ((S.HuberLoss(delta), "scratch"), (R.HuberLoss(delta), "reference")):
            assert_close(layer.forward(x, t), expected, dtype, what=f"{who} loss")
            assert_close(layer.backward(1), xt.grad, dtype, what=f"{who} dx")
        smooth = F.smooth_l1_loss(torch.from_numpy(x), torch.from_numpy(t), beta=delta)
        assert_close(S.HuberLoss(delta).forward(x, t), delta * smooth, dtype, what="delta * smooth_l1")


class TestTDTargets:
    @parameterized.expand(DTYPES)
    def test_terminal_and_double(self, _, dtype):
        rng = make_rng(2)
        rewards, next_q = rng.standard_normal(6).astype(dtype), rng.standard_normal((6, 3)).astype(dtype)
        online = rng.standard_normal((6, 3)).astype(dtype)
        terminated = np.array([0, 1, 0, 1, 0, 0], dtype=dtype)
        for online_q in (None, online):
            a = S.td_targets(rewards, next_q, terminated, 0.9, online_q)
            b = R.td_targets(rewards, next_q, terminated, 0.9, online_q)
            assert_close(a, b, dtype, what="targets")
            assert not b.requires_grad
            np.testing.assert_array_equal(a[terminated == 1], rewards[terminated == 1])  # nothing follows
        best = next_q[np.arange(6), online.argmax(1)]
        np.testing.assert_allclose(S.td_targets(rewards, next_q, terminated, 0.9, online)[0],
                                   rewards[0] + np.float64(0.9) * best[0], rtol=1e-6)
        assert S.td_targets(rewards, next_q, terminated, 0.9)[0] >= S.td_targets(rewards, next_q, terminated, 0.9,
                                                                                 online)[0]


class TestQNetwork:
    @parameterized.expand(DTYPES)
    def test_loss_and_every_gradient(self, _, dtype):
        a = S.QNetwork(dtype=dtype, seed=0)
        b = R.QNetwork(dtype=dtype, seed=1).load_params(a.params)
        rng = make_rng(3)
        x, actions = rng.standard_normal((16, 4)).astype(dtype), rng.integers(0, 2, 16)
        targets = rng.standard_normal(16)
        assert_close(a.predict(x), b.predict(x), dtype, what="Q")
        ga, gb = a.gradient(x, actions, targets * 3), b.gradient(x, actions, targets * 3)
        assert_close(a.last_loss, b.last_loss, dtype, what="loss")
        assert list(ga) == list(a.params) == list(gb)
        for name in a.params:
            assert_close(ga[name], gb[name], dtype, what=f"d{name}")

    def test_100_steps_of_adam_on_replayed_minibatches_float64(self):
        a = S.QNetwork(hidden_sizes=(32, 32), dtype=np.float64, seed=0)
        b = R.QNetwork(hidden_sizes=(32, 32), dtype=np.float64, seed=1).load_params(a.params)
        target = S.QNetwork(hidden_sizes=(32, 32), dtype=np.float64, seed=0)  # a frozen target network
        buffer = S.ReplayBuffer(500, 4, seed=4, dtype=np.float64)
        rng = make_rng(5)
        for _ in range(500):
            buffer.push(rng.standard_normal(4), rng.integers(2), rng.standard_normal(), rng.standard_normal(4),
                        rng.random() < 0.1)
        opt_a, opt_b = SO.Adam(lr=1e-3), RO.Adam(lr=1e-3)
        losses_a, losses_b = [], []
        for _ in range(100):
            s, act, r, s2, term = buffer.sample(32)
            y = S.td_targets(r, target.predict(s2), term, 0.99)
            opt_a.update(a.params, a.gradient(s, act, y))
            opt_b.update(b.params, b.gradient(s, act, y))
            losses_a.append(float(a.last_loss))
            losses_b.append(float(b.last_loss))
        assert_close(np.array(losses_a), np.array(losses_b), np.float64, rtol=1e-9, what="loss curve")
        assert np.mean(losses_a[-10:]) < np.mean(losses_a[:10]), "the loss did not fall"
        for name in a.params:
            assert_close(a.params[name], b.params[name], np.float64, rtol=1e-9, what=f"{name} after 100 steps")


class ToyPole:
    """A deterministic stand-in for CartPole (no gymnasium needed): a 4-dimensional linear system that
    each action pushes one way or the other; reward 1 per step, terminated when |x0| or |x2| passes 1,
    truncated after 60 steps. ``reset`` draws the start from the given generator."""

    A = np.array([[1.0, 0.05, 0.0, 0.0], [0.0, 1.0, 0.1, 0.0], [0.0, 0.0, 1.0, 0.05], [0.0, 0.0, 0.3, 1.0]])
    PUSH = np.array([0.0, 0.05, 0.0, -0.1])

    def reset(self, rng):
        self.t, self.state = 0, rng.uniform(-0.05, 0.05, 4)
        return self.state

    def step(self, action):
        self.t += 1
        self.state = self.A @ self.state + (1 if action else -1) * self.PUSH
        terminated = bool(abs(self.state[0]) > 1 or abs(self.state[2]) > 1)
        return self.state, 1.0, terminated, self.t >= 60


def run_agent(module, double, steps=400):
    """The agent of one backend on ToyPole: its actions, its losses and the agent."""
    agent = module.DQNAgent(hidden_sizes=(32, 32), batch_size=32, target_sync=50, epsilon_decay_steps=300,
                            double=double, dtype=np.float64, seed=7)
    env, env_rng = ToyPole(), np.random.default_rng(8)
    state, actions, losses = env.reset(env_rng), [], []
    for step in range(steps):
        action = agent.act(state, step)
        next_state, reward, terminated, truncated = env.step(action)
        agent.remember(state, action, reward, next_state, terminated)
        loss = agent.update()
        if loss is not None:
            losses.append(loss)
        actions.append(action)
        state = env.reset(env_rng) if terminated or truncated else next_state
    return actions, np.array(losses), agent


class TestAgent:
    @parameterized.expand([("dqn", False), ("double_dqn", True)])
    def test_whole_run_float64(self, _, double):
        """The same seed: the same actions, losses and weights (1e-9) after 369 updates, 7 target syncs."""
        actions_a, losses_a, a = run_agent(S, double)
        actions_b, losses_b, b = run_agent(R, double)
        assert a.updates == b.updates == 369 and len(set(actions_a)) == 2
        assert actions_a == actions_b, "the backends chose different actions"
        assert_close(losses_a, losses_b, np.float64, rtol=1e-9, what="loss of every update")
        for name in a.online.params:
            assert_close(a.online.params[name], b.online.params[name], np.float64, rtol=1e-9,
                         what=f"online {name}")
            assert_close(a.target.params[name], b.target.params[name], np.float64, rtol=1e-9,
                         what=f"target {name}")

    def test_target_network_follows_every_target_sync_updates(self):
        _, _, agent = run_agent(S, False, steps=100)  # 69 updates: synced at 50, not since
        assert agent.updates == 69
        assert not np.array_equal(agent.online.params["W1"], agent.target.params["W1"])
        agent.target_sync = 70
        agent.update()
        np.testing.assert_array_equal(agent.online.params["W1"], agent.target.params["W1"])


class TestDataAndDice:
    def test_replay_buffer_wraps_and_repeats(self):
        buffer = S.ReplayBuffer(3, 2, seed=0)
        for k in range(5):
            buffer.push([k, k], k % 2, float(k), [k + 1, k + 1], k == 4)
        assert len(buffer) == 3 and buffer.position == 2
        np.testing.assert_array_equal(buffer.rewards, [3.0, 4.0, 2.0])  # 0 and 1 overwritten by 3 and 4
        np.testing.assert_array_equal(buffer.terminated, [0.0, 1.0, 0.0])
        again = S.ReplayBuffer(3, 2, seed=0)
        for k in range(5):
            again.push([k, k], k % 2, float(k), [k + 1, k + 1], k == 4)
        for x, y in zip(buffer.sample(8), again.sample(8)):
            np.testing.assert_array_equal(x, y)
        assert R.ReplayBuffer is S.ReplayBuffer

    def test_epsilon(self):
        assert S.linear_epsilon(0) == 1.0 and S.linear_epsilon(10000) == 0.05 and S.linear_epsilon(20000) == 0.05
        assert S.linear_epsilon(5000) == pytest.approx(0.525, abs=1e-15)
        q = np.array([0.1, 0.7, 0.7])
        assert S.epsilon_greedy(q, 0.0, np.random.default_rng(0)) == 1  # the first of equal values
        picks = [S.epsilon_greedy(q, 1.0, rng) for rng in [np.random.default_rng(1)] for _ in range(300)]
        assert set(picks) == {0, 1, 2}
        r1, r2 = np.random.default_rng(6), np.random.default_rng(6)
        assert [S.epsilon_greedy(q, 0.3, r1) for _ in range(50)] == \
            [R.epsilon_greedy(torch.from_numpy(q), 0.3, r2) for _ in range(50)]


class TestBadInput:
    def test_one_line_errors(self):
        q = np.zeros((3, 2))
        for module in (S, R):
            with pytest.raises(ValueError, match=r"actions must lie in \[0, 2\)"):
                module.Gather().forward(q, np.array([0, 2, 1]))
            with pytest.raises(ValueError, match="give one action per row"):
                module.Gather().forward(q, np.array([0, 1]))
            with pytest.raises(TypeError, match="integer actions"):
                module.Gather().forward(q, np.array([0.0, 1.0, 1.0]))
        assert_same_error(lambda: S.HuberLoss(0), lambda: R.HuberLoss(0), match="delta must be a finite number > 0")
        assert_same_error(lambda: S.HuberLoss().forward(np.zeros(3), np.zeros(4)),
                          lambda: R.HuberLoss().forward(np.zeros(3), np.zeros(4)), match="give one target")
        assert_same_error(lambda: S.td_targets(np.zeros(3), np.zeros((4, 2)), np.zeros(3), 0.9),
                          lambda: R.td_targets(np.zeros(3), np.zeros((4, 2)), np.zeros(3), 0.9),
                          match="expected (n,) and (n, a)")
        with pytest.raises(ValueError, match="the buffer is empty"):
            S.ReplayBuffer(4, 2).sample(2)
