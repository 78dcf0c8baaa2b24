"""The batched env: shapes, same-step autoreset, the Gymnasium vector API and the SB3 adapter."""

from __future__ import annotations

from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import TINY_WORLD
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.vec_env import VecMonitor

import envs  # noqa: F401  (registers the ids)
from envs.rec_env import RecEnv
from envs.sb3_vec_env import SB3VecEnv
from envs.vector_env import RecVectorEnv
from recgym.simulators.dynamics import DynamicsConfig
from recgym.simulators.world import GroundTruthWorld

B = 32


def test_reset_and_step_stay_in_the_observation_space(tiny_world) -> None:
    env = RecVectorEnv(tiny_world, num_envs=B, horizon=5, history_len=3)
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)
    for _ in range(12):
        observation, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        assert env.observation_space.contains(observation)
        assert reward.shape == terminated.shape == truncated.shape == (B,)


def test_finished_sessions_restart_in_the_same_step() -> None:
    staying = DynamicsConfig(leave_base=-50.0, leave_fatigue=0.0, leave_unsatisfied=0.0)  # nobody leaves
    world = GroundTruthWorld(replace(TINY_WORLD, dynamics=staying))
    env = RecVectorEnv(world, num_envs=B, horizon=3, history_len=3)
    env.reset_tensors(seed=1)
    for step in range(3):
        result = env.step_tensors(torch.full((B,), step, dtype=torch.long))
    assert result.truncated.all() and not result.terminated.any()  # everyone reached the horizon
    assert (result.observation["recent_items"] == 0).all()  # fresh sessions: empty history
    final_items = result.final_observation["recent_items"]
    assert (final_items == torch.tensor([1, 2, 3])).all()  # the three items shown, as item + 1


def test_numpy_step_reports_final_observations(tiny_world) -> None:
    env = RecVectorEnv(tiny_world, num_envs=B, horizon=2, history_len=2)
    env.reset(seed=0)
    env.step(np.zeros(B, dtype=np.int64))
    _, _, terminated, truncated, infos = env.step(np.ones(B, dtype=np.int64))
    done = terminated | truncated
    assert (infos["_final_obs"] == done).all()
    row = int(np.flatnonzero(done)[0])
    assert list(infos["final_obs"][row]["recent_items"]) == [1, 2]


def test_reset_with_a_seed_is_reproducible(tiny_world) -> None:
    runs = []
    for _ in range(2):
        env = RecVectorEnv(tiny_world, num_envs=B, horizon=10)
        env.reset_tensors(seed=7)
        rewards = [env.step_tensors(torch.arange(B) % tiny_world.n_items).reward for _ in range(20)]
        runs.append(torch.stack(rewards))
    assert torch.equal(runs[0], runs[1])


@pytest.mark.parametrize(
    "actions", [np.zeros(B - 1, dtype=np.int64), np.full(B, -1), np.full(B, 10_000), np.zeros(B)]
)
def test_bad_actions_raise(tiny_world, actions) -> None:
    env = RecVectorEnv(tiny_world, num_envs=B)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="actions"):
        env.step(actions)


def test_make_vec_builds_the_batched_env() -> None:
    env = gym.make_vec("recgym/SyntheticWorld-v0", num_envs=16, vectorization_mode="vector_entry_point")
    assert isinstance(env.unwrapped, RecVectorEnv) and env.num_envs == 16
    observation, _ = env.reset(seed=0)
    assert observation["recent_items"].shape == (16, 10)


@pytest.mark.parametrize("algorithm", ["dqn", "ppo"])
def test_sb3_trains_on_the_batched_env(tiny_world, algorithm) -> None:
    venv = VecMonitor(SB3VecEnv(RecVectorEnv(tiny_world, num_envs=64, horizon=10, history_len=4), seed=0))
    if algorithm == "dqn":
        model = DQN("MultiInputPolicy", venv, learning_starts=100, seed=0)
    else:
        model = PPO("MultiInputPolicy", venv, n_steps=8, batch_size=128, n_epochs=1, seed=0)
    model.learn(1_024)
    assert model.num_timesteps >= 1_024
    assert len(model.ep_info_buffer) > 0  # episodes ended and were reported through the adapter


def test_batched_env_replays_single_envs_with_the_same_seeds(tiny_world) -> None:
    """Row r of a batched env reset with seed s is the single env reset with seed s + r, across
    sessions: same users, observations, rewards and ends (the single env is the batch-of-one case)."""
    n, seed = 6, 10
    batched = RecVectorEnv(tiny_world, num_envs=n, horizon=8, history_len=4)
    singles = [RecEnv(tiny_world, horizon=8, history_len=4) for _ in range(n)]
    batch_obs, _ = batched.reset(seed=seed)
    single_obs = [env.reset(seed=seed + r)[0] for r, env in enumerate(singles)]
    actions = np.random.default_rng(0).integers(tiny_world.n_items, size=(60, n))
    ends = 0
    for step_actions in actions:
        for r in range(n):
            for key in batch_obs:
                assert np.array_equal(batch_obs[key][r], single_obs[r][key])
        batch_obs, rewards, terminated, truncated, _ = batched.step(step_actions)
        for r, env in enumerate(singles):
            obs, reward, single_terminated, single_truncated, _ = env.step(int(step_actions[r]))
            assert (reward, single_terminated, single_truncated) == (rewards[r], terminated[r], truncated[r])
            if single_terminated or single_truncated:
                obs, _ = env.reset()
                ends += 1
            single_obs[r] = obs
    assert ends > n  # several sessions per row, so autoreset was exercised


def test_compiled_step_matches_the_eager_step(tiny_world) -> None:
    runs = []
    for compile in (False, True):
        env = RecVectorEnv(tiny_world, num_envs=B, horizon=6, history_len=3, compile=compile)
        env.reset_tensors(seed=3)
        trace = []
        for step in range(12):
            result = env.step_tensors((torch.arange(B) + step) % tiny_world.n_items)
            outcome = torch.stack([result.reward, result.terminated.float(), result.truncated.float()], dim=1)
            trace.append(torch.cat([outcome, result.observation["recent_items"].float()], dim=1))
        runs.append(torch.cat(trace))
    assert torch.equal(runs[0], runs[1])
