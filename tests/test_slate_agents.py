"""SlateQ and top-K REINFORCE: each learns the known best slates of a tiny world, reproducibly."""

from __future__ import annotations

import pytest
import torch
from fakes import LikedItemsWorld

from recgym.agents.slateq import SlateQ, SlateQConfig
from recgym.agents.topk_reinforce import TopKReinforce, TopKReinforceConfig, sample_slates
from recgym.baselines import RandomPolicy
from recgym.envs.slate_env import SlateVectorEnv
from recgym.evaluation import EvalConfig, evaluate
from recgym.simulators.choice import ChoiceConfig

N_USERS, N_ITEMS, K, HORIZON = 4, 10, 2, 5
# user u likes items u, u+2, ... (mod 10), five each; the best slates hold two liked items not yet
# consumed, so a session earns about 5 clicks, against about 3.5 for random slates
LIKES = [[int((item - user) % 2 == 0) for item in range(N_ITEMS)] for user in range(N_USERS)]
CHOICE = ChoiceConfig(slate_size=K, position_decay=0.5)
SMALL = {"embedding_dim": 8, "net_arch": (32,)}
AGENTS = {
    "slateq": lambda env, seed: SlateQ(
        env,
        SlateQConfig(
            learning_starts=500,
            batch_size=128,
            gradient_steps=1,
            target_update_interval=100,
            buffer_size=20_000,
            learning_rate=3e-3,
            **SMALL,
        ),
        seed=seed,
    ),
    "topk-reinforce": lambda env, seed: TopKReinforce(
        env, TopKReinforceConfig(rollout_steps=10, batch_size=256, learning_rate=1e-2, **SMALL), seed=seed
    ),
}


def train(name: str, steps: int, seed: int):
    world = LikedItemsWorld(LIKES)
    env = SlateVectorEnv(world, num_envs=32, horizon=HORIZON, history_len=5, choice=CHOICE)
    return world, AGENTS[name](env, seed).learn(steps)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", sorted(AGENTS))
@pytest.mark.slow
def test_each_slate_agent_learns_the_known_best_slates(name: str, seed: int) -> None:
    world, agent = train(name, 8_000, seed)
    policies = {name: agent.policy(), "random": RandomPolicy(N_ITEMS)}
    config = EvalConfig(n_users=40, horizon=HORIZON, history_len=5, choice=CHOICE)
    results = evaluate(world, policies, config)["policies"]
    assert results[name]["return_mean"] >= 0.9 * HORIZON > results["random"]["return_mean"]


@pytest.mark.parametrize("name", sorted(AGENTS))
def test_each_slate_agent_trains_reproducibly(name: str) -> None:
    first, second = train(name, 1_000, seed=3)[1], train(name, 1_000, seed=3)[1]
    network = "q_net" if name == "slateq" else "network"
    for a, b in zip(getattr(first, network).parameters(), getattr(second, network).parameters(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.slow
def test_slateq_learns_the_position_bias_of_the_choice_model() -> None:
    agent = train("slateq", 8_000, seed=0)[1]
    weights = agent.q_net.position_log_weights.detach()
    assert (weights[1] - weights[0]).item() == pytest.approx(torch.log(torch.tensor(0.5)).item(), abs=0.35)


def test_sampled_slates_hold_distinct_unshown_items_drawn_by_the_softmax() -> None:
    logits = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.4]])).expand(20_000, 4)
    shown = torch.zeros(20_000, 4, dtype=torch.bool)
    shown[:, 3] = True
    generator = torch.Generator().manual_seed(0)
    slates = sample_slates(logits, ~shown, 2, generator)
    assert (slates != 3).all() and (slates[:, 0] != slates[:, 1]).all()
    first = torch.bincount(sample_slates(logits, ~shown, 1, generator)[:, 0], minlength=4).float() / 20_000
    assert torch.allclose(first, torch.tensor([1 / 6, 2 / 6, 3 / 6, 0.0]), atol=0.015)


def test_reinforce_without_item_bias_keeps_it_at_zero() -> None:
    world = LikedItemsWorld(LIKES)
    env = SlateVectorEnv(world, num_envs=32, horizon=HORIZON, history_len=5, choice=CHOICE)
    config = TopKReinforceConfig(
        rollout_steps=10, batch_size=256, learning_rate=1e-2, item_bias=False, **SMALL
    )
    agent = TopKReinforce(env, config, seed=0).learn(2_000)
    assert torch.count_nonzero(agent.network.item_bias) == 0


@pytest.mark.slow
def test_a_user_learning_rate_personalises_many_users_with_few_sessions_each() -> None:
    """300 users with their own random likes, about 7 sessions each: only the user embeddings can
    tell them apart, and at the shared rate they barely move."""
    likes = (torch.rand(300, 30, generator=torch.Generator().manual_seed(0)) < 0.2).int().tolist()
    world = LikedItemsWorld(likes)
    returns = {}
    for user_rate in (None, 0.1):
        env = SlateVectorEnv(world, num_envs=32, horizon=HORIZON, history_len=5, choice=CHOICE)
        config = TopKReinforceConfig(
            rollout_steps=10, batch_size=256, learning_rate=1e-2, user_learning_rate=user_rate, **SMALL
        )
        agent = TopKReinforce(env, config, seed=0).learn(10_000)
        evaluation = EvalConfig(n_users=300, horizon=HORIZON, history_len=5, choice=CHOICE)
        result = evaluate(world, {"agent": agent.policy()}, evaluation)["policies"]["agent"]
        returns[user_rate] = result["return_mean"]
    assert returns[0.1] > returns[None] + 0.15


def test_a_user_learning_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="user_learning_rate"):
        TopKReinforceConfig(user_learning_rate=0.0)
