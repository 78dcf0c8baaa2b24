"""Tianshou's DQN, set up as Tianshou's own example sets it up (bench/tianshou_dqn.py), trains on recgym's
module-qualified dense and candidate ids through Tianshou's vector envs, collectors and replay buffer.

Tianshou 2.0.1 pins pandas<3, so it has a venv of its own: `.ci/run` makes one and runs this file
there; in recgym's main test venv, without Tianshou, the test is skipped."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from bench_scripts import load_bench

pytest.importorskip("tianshou")


@pytest.mark.parametrize(
    "env_id",
    ["recgym.envs:recgym/SyntheticWorld-Dense-v0", "recgym.envs:recgym/SyntheticWorld-Candidates-v0"],
)
def test_tianshous_example_dqn_trains_on_the_dense_and_candidate_ids_with_no_edit(env_id: str) -> None:
    bench = load_bench("tianshou_dqn")
    net, seconds = bench.train(bench.Args(steps=2_000, seed=0, env=env_id))
    env = gym.make(env_id)
    observation, info = env.reset(seed=0)
    with torch.no_grad():
        q, _ = net(torch.as_tensor(observation[None]))
    assert observation.dtype == np.float32 and env.observation_space.contains(observation)
    assert q.shape == (1, env.action_space.n) and torch.isfinite(q).all() and seconds > 0
    returns = load_bench("cleanrl_dqn").episode_returns(
        env_id, lambda obs, info: int(net(torch.as_tensor(obs[None]))[0].argmax()), episodes=3, seed=0
    )
    assert returns.shape == (3,) and np.isfinite(returns).all()
