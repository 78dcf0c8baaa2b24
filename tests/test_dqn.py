"""The DQN agents: they beat random on a tiny world, learn a known best policy, and train reproducibly."""

from __future__ import annotations

import pytest
import torch
from fakes import FixedSimulator
from stable_baselines3.common.env_util import make_vec_env
from test_sb3_agents import CLICKS, HORIZON, LIKED, N_USERS

from recgym.agents.contract import TrainOptions
from recgym.agents.device_dqn import DeviceDQN, DeviceDQNConfig
from recgym.agents.sb3.dqn import DQNConfig, QPolicy, make_dqn
from recgym.baselines import RandomPolicy
from recgym.envs.rec_env import RecEnv
from recgym.envs.vector_env import RecVectorEnv
from recgym.evaluation import EvalConfig, evaluate
from recgym.simulators.world import GroundTruthConfig, GroundTruthWorld

TINY = GroundTruthConfig(
    n_users=8, n_items=30, n_topics=3, dim=4, affinity_scale=5.0, quality_std=1.5, seed=1
)
FAST = DQNConfig(
    learning_starts=500, target_update_interval=500, buffer_size=20_000, embedding_dim=8, net_arch=(32,)
)


def train(world: GroundTruthWorld, steps: int, seed: int):
    env = make_vec_env(
        RecEnv, n_envs=4, seed=seed, env_kwargs={"simulator": world, "horizon": 20, "history_len": 5}
    )
    agent = make_dqn(env, FAST, seed=seed)
    agent.learn(steps)
    return agent


def compare_with_random(world: GroundTruthWorld, q_net) -> dict[str, dict]:
    return evaluate(
        world,
        {"dqn": QPolicy(q_net), "random": RandomPolicy(world.n_items)},
        EvalConfig(n_users=400, horizon=20, history_len=5, seed=0),
    )["policies"]


@pytest.mark.slow
def test_dqn_learns_to_beat_random_on_a_tiny_world() -> None:
    world = GroundTruthWorld(TINY)
    results = compare_with_random(world, train(world, 12_000, seed=0).q_net)
    assert results["dqn"]["return_ci95"][0] > results["random"]["return_ci95"][1]
    assert results["dqn"]["ctr"] > results["random"]["ctr"]


@pytest.mark.slow
def test_dqn_training_is_deterministic() -> None:
    world = GroundTruthWorld(TINY)
    first, second = train(world, 1_200, seed=3), train(world, 1_200, seed=3)
    for a, b in zip(first.q_net.parameters(), second.q_net.parameters(), strict=True):
        assert torch.equal(a, b)


def test_initial_embeddings_make_the_first_policy_rank_by_dot_product() -> None:
    world = GroundTruthWorld(TINY)
    env = RecEnv(world, horizon=20, history_len=5)
    users = torch.randn(TINY.n_users, 6)
    items = torch.randn(TINY.n_items, 6)
    agent = make_dqn(env, FAST, initial_embeddings=(users, items))
    observation = {
        "user": torch.tensor([[2.0]]),
        "recent_items": torch.zeros(1, 5),
        "recent_responses": torch.zeros(1, 5),
    }
    q_values = agent.q_net(observation)
    assert torch.allclose(q_values[0], items @ users[2], atol=1e-5)


def device_dqn(world: GroundTruthWorld, steps: int, seed: int) -> DeviceDQN:
    env = RecVectorEnv(world, num_envs=64, horizon=20, history_len=5)
    config = DeviceDQNConfig(
        learning_starts=2_000,
        batch_size=256,
        gradient_steps=4,
        target_update_interval=100,
        buffer_size=50_000,
        embedding_dim=8,
        net_arch=(32,),
    )
    return DeviceDQN(env, config, seed=seed).learn(steps)


@pytest.mark.slow
def test_device_dqn_learns_to_beat_random_on_a_tiny_world() -> None:
    world = GroundTruthWorld(TINY)
    results = compare_with_random(world, device_dqn(world, 20_000, seed=0).q_net)
    assert results["dqn"]["return_ci95"][0] > results["random"]["return_ci95"][1]


def test_device_dqn_is_deterministic() -> None:
    world = GroundTruthWorld(TINY)
    first, second = device_dqn(world, 4_000, seed=5), device_dqn(world, 4_000, seed=5)
    for a, b in zip(first.q_net.parameters(), second.q_net.parameters(), strict=True):
        assert torch.equal(a, b)


def test_device_dqn_callback_can_stop_training() -> None:
    world = GroundTruthWorld(TINY)
    env = RecVectorEnv(world, num_envs=64, horizon=20, history_len=5)
    calls: list[int] = []

    def stop_at_the_tenth_step(agent: DeviceDQN) -> bool:
        calls.append(agent.num_timesteps)
        return len(calls) < 10

    agent = DeviceDQN(env, DeviceDQNConfig(learning_starts=10_000), seed=0)
    agent.learn(64 * 100, TrainOptions(callback=stop_at_the_tenth_step))
    assert calls == [64 * step for step in range(1, 11)] and agent.num_timesteps == 640


@pytest.mark.slow
def test_device_dqn_learns_the_known_best_policy_of_a_tiny_world() -> None:
    world = FixedSimulator(CLICKS, leave_after=[100] * N_USERS)
    env = RecVectorEnv(world, num_envs=32, horizon=HORIZON, history_len=5)
    config = DeviceDQNConfig(
        learning_starts=500,
        batch_size=128,
        gradient_steps=8,
        target_update_interval=100,
        embedding_dim=8,
        net_arch=(32,),
    )
    agent = DeviceDQN(env, config, seed=0).learn(8_000)
    results = evaluate(world, {"dqn": agent.policy()}, EvalConfig(n_users=40, horizon=HORIZON, history_len=5))
    assert results["policies"]["dqn"]["return_mean"] >= 0.9 * LIKED
