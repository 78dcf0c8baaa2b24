"""Tianshou's DQN, set up as Tianshou's own example sets it up (bench/tianshou_dqn.py), trains on recgym's
module-qualified dense id through Tianshou's vector envs, collectors and replay buffer.

Tianshou 2.0.1 pins pandas<3, so it has a venv of its own: `.ci/run` makes one and runs this file
there; in recgym's main test venv, without Tianshou, the test is skipped."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from bench_scripts import load_bench

pytest.importorskip("tianshou")


def test_tianshous_example_dqn_trains_on_the_dense_id_with_no_edit() -> None:
    bench = load_bench("tianshou_dqn")
    net, seconds = bench.train(bench.Args(steps=2_000, seed=0))
    env = gym.make(bench.ENV)
    observation, info = env.reset(seed=0)
    with torch.no_grad():
        q, _ = net(torch.as_tensor(observation[None]))
    assert observation.dtype == np.float32 and env.observation_space.contains(observation)
    assert q.shape == (1, env.action_space.n) and torch.isfinite(q).all() and seconds > 0
    returns = load_bench("cleanrl_dqn").episode_returns(
        bench.ENV, lambda obs, info: int(net(torch.as_tensor(obs[None]))[0].argmax()), episodes=3, seed=0
    )
    assert returns.shape == (3,) and np.isfinite(returns).all()
