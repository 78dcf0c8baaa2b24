"""Selectable rewards and the return model: what each reward pays, retention's telescoping, the
gap regression's direction, and clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from recgym.data import InteractionLog, LogError
from recgym.data.log_sessions import split_sessions
from recgym.models.logistic import fit_logistic
from recgym.random import RowStreams
from recgym.sessions import Sessions
from recgym.simulators.dynamics_params import DynamicsParams
from recgym.simulators.return_model import ReturnModel, fit_return_model
from recgym.simulators.rewards import REWARD_SIGNALS, REWARDS
from recgym.simulators.world import GroundTruthConfig, GroundTruthWorld

WORLD = GroundTruthConfig(n_users=50, n_items=30, n_topics=3)
RETURNS = ReturnModel(weights=(-1.0, -2.0), bias=12.0, sigma=1.0, within_seconds=86_400.0, n_gaps=100)


def session_rewards(reward: str, steps: int = 12) -> tuple[torch.Tensor, Sessions]:
    world = GroundTruthWorld(WORLD, reward=reward)
    world = world.with_dynamics(DynamicsParams(world.dynamics, return_model=RETURNS))
    sessions = Sessions(world, batch_size=8, horizon=steps)
    rng = RowStreams.from_seed(0, 8)
    sessions.reset(torch.arange(8), rng)
    total = torch.zeros(8)
    for step in range(steps):
        total += sessions.step(torch.full((8,), step), rng).reward
    return total, sessions


def test_session_length_pays_one_per_step() -> None:
    total, _ = session_rewards("session_length")
    assert total.tolist() == [12.0] * 8


def test_engagement_is_a_share_paid_only_on_clicks() -> None:
    world = GroundTruthWorld(WORLD, reward="engagement")
    state = world.initial_state(torch.arange(50), RowStreams.from_seed(0, 50))
    response = world.respond(state, torch.arange(50) % 30, RowStreams.from_seed(1, 50))
    assert bool(((response.reward > 0) == response.click).all())
    assert float(response.reward.max()) <= 1.0


def test_retention_rewards_sum_to_the_return_probability_at_the_end() -> None:
    total, sessions = session_rewards("retention")
    state = sessions.state
    expected = RETURNS.probability(state["position"], state["clicks"])
    torch.testing.assert_close(total, expected, atol=1e-5, rtol=0)


def test_retention_without_a_return_model_says_what_is_missing() -> None:
    world = GroundTruthWorld(WORLD, reward="retention")
    state = world.initial_state(torch.arange(2), RowStreams.from_seed(0, 2))
    with pytest.raises(ValueError, match="return model"):
        world.respond(state, torch.arange(2), RowStreams.from_seed(0, 2))


def test_an_unknown_reward_is_rejected() -> None:
    with pytest.raises(ValueError, match="reward must be one of"):
        GroundTruthWorld(WORLD, reward="dwell")


@pytest.mark.parametrize(
    ("reward", "bounds"),
    [
        ("click", (0.0, 1.0)),
        ("rating", (0.0, 1.0)),  # a non-click's 0 up to the world's rating of 1
        ("engagement", (0.0, 1.0)),
        ("session_length", (1.0, 1.0)),
        ("retention", (-1.0, 1.0)),
    ],
)
def test_every_reward_is_a_signal_of_the_table_with_its_range(reward: str, bounds) -> None:
    world = GroundTruthWorld(WORLD, reward=reward)
    assert world.reward == reward and world.reward_signal is REWARD_SIGNALS[reward]
    assert world.reward_range == bounds
    assert set(REWARD_SIGNALS) == set(REWARDS)


def test_a_rating_reward_spans_the_rating_scale_and_zero() -> None:
    assert REWARD_SIGNALS["rating"].reward_range((1.0, 5.0)) == (0.0, 5.0)
    assert REWARD_SIGNALS["rating"].reward_range((-2.0, -1.0)) == (-2.0, 0.0)


def gap_log(n_users: int = 40, sessions_per_user: int = 8) -> InteractionLog:
    """Users whose next visit comes sooner after a longer session (gap = 10 days / length)."""
    rng = np.random.default_rng(0)
    rows, clock = [], 0.0
    for user in range(n_users):
        clock = 0.0
        for _ in range(sessions_per_user):
            length = int(rng.integers(1, 10))
            for step in range(length):
                rows.append((user, step, 1.0, int(clock) + 60 * step))
            clock += 60 * length + 864_000 / length * float(rng.uniform(0.8, 1.25))
    return InteractionLog.from_frame(
        pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"]), feedback="click"
    )


def test_the_return_model_learns_that_longer_sessions_bring_users_back_sooner() -> None:
    model = fit_return_model(split_sessions(gap_log(), gap_seconds=3600))
    assert model.weights[0] < -0.5
    short, long = model.probability(torch.tensor([1.0, 9.0]), torch.tensor([1.0, 9.0]))
    assert long > short
    assert model.n_gaps == 40 * 7


def test_a_return_model_needs_gaps_between_sessions() -> None:
    with pytest.raises(LogError, match="at least 10 gaps"):
        fit_return_model(split_sessions(gap_log(n_users=2, sessions_per_user=3), gap_seconds=3600))


def test_fit_logistic_recovers_weights_on_top_of_an_offset() -> None:
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(20_000, 2, generator=generator) * torch.tensor([1.0, 3.0])
    offset = torch.randn(20_000, generator=generator)
    logits = offset + 0.5 + features @ torch.tensor([-1.0, 0.3])
    labels = (torch.rand(20_000, generator=generator) < torch.sigmoid(logits)).double()
    fit = fit_logistic(features, labels, offset=offset)
    assert fit.weights == pytest.approx((-1.0, 0.3), abs=0.06)
    assert fit.bias == pytest.approx(0.5, abs=0.06)


def test_fit_logistic_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="features"):
        fit_logistic(torch.zeros(5, 2), torch.zeros(4))
