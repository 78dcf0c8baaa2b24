"""Rollouts and summaries against hand-computed values, bootstrap intervals, and fair comparison."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from fakes import FixedSimulator, OrderPolicy, ScriptedPolicy

from recgym.baselines import RandomPolicy
from recgym.evaluation import (
    Episodes,
    EvalConfig,
    bootstrap_ci,
    evaluate,
    evaluation_users,
    rollout,
    summarize,
)

# user 0 clicks items 0 and 2 and leaves after 2 steps; user 1 clicks item 1 and stays;
# user 2 clicks everything and leaves after 3 steps. Five items.
CLICKS = [
    [1, 0, 1, 0, 0],
    [0, 1, 0, 0, 0],
    [1, 1, 1, 1, 1],
]
LEAVE_AFTER = [2, 100, 3]


def config(horizon: int = 4, n_users: int = 3) -> EvalConfig:
    return EvalConfig(n_users=n_users, horizon=horizon, history_len=2, seed=0)


def test_rollout_in_item_order_matches_hand_computed_episodes() -> None:
    sim = FixedSimulator(CLICKS, LEAVE_AFTER)
    episodes = rollout(sim, OrderPolicy(5), torch.tensor([0, 1, 2]), config(horizon=4))
    # user 0 sees 0, 1 (clicks 0); user 1 sees 0..3 (clicks 1), truncated; user 2 sees 0..2 (clicks all)
    assert episodes.returns.tolist() == [1.0, 1.0, 3.0]
    assert episodes.clicks.tolist() == [1.0, 1.0, 3.0]
    assert episodes.lengths.tolist() == [2, 4, 3]
    assert episodes.item_counts.tolist() == [3.0, 3.0, 2.0, 1.0, 0.0]
    # without item vectors, distinct items count as orthogonal: diversity 1
    assert episodes.diversity.tolist() == [1.0, 1.0, 1.0]

    summary = summarize(episodes, seed=0)
    assert summary["return_mean"] == pytest.approx(5 / 3)
    assert summary["session_length"] == pytest.approx(3.0)
    assert summary["ctr"] == pytest.approx(5 / 9)  # clicks / recommendations
    assert summary["coverage"] == pytest.approx(4 / 5)  # item 4 was never recommended
    assert summary["diversity"] == pytest.approx(1.0)
    assert summary["n_users"] == 3
    low, high = summary["return_ci95"]
    assert 1.0 <= low <= 5 / 3 <= high <= 3.0


def test_users_contribute_nothing_after_their_session_ends() -> None:
    sim = FixedSimulator(CLICKS, LEAVE_AFTER)
    # after user 2 leaves (step 3) it would be shown item 4, which it would click
    policy = ScriptedPolicy([[0, 0, 1], [2, 1, 2], [3, 2, 3], [4, 3, 4], [4, 3, 4]])
    episodes = rollout(sim, policy, torch.tensor([0, 1, 2]), config(horizon=5))
    assert episodes.lengths.tolist() == [2, 5, 3]
    assert episodes.returns.tolist() == [2.0, 1.0, 3.0]
    assert episodes.item_counts.tolist() == [2.0, 2.0, 3.0, 3.0, 0.0]  # item 4 only after ends
    assert summarize(episodes)["coverage"] == pytest.approx(4 / 5)


def test_rollout_stops_once_every_session_has_ended() -> None:
    sim = FixedSimulator([[1, 1], [0, 0]], leave_after=[1, 2])
    policy = ScriptedPolicy([[0, 0], [1, 1], [0, 0]])
    episodes = rollout(sim, policy, torch.tensor([0, 1]), config(horizon=50, n_users=2))
    assert policy.t == 2
    assert episodes.lengths.tolist() == [1, 2]
    assert math.isnan(episodes.diversity[0])  # one item: no pair to compare


def test_diversity_uses_the_simulators_item_vectors() -> None:
    # items 0 and 1 orthogonal, item 2 halfway between them (unnormalised), item 3 opposite item 0
    vectors = torch.tensor([[1.0, 0.0], [0.0, 1.0], [3.0, 3.0], [-2.0, 0.0]])
    sim = FixedSimulator([[0] * 4] * 3, leave_after=[3, 2, 1], item_vectors=vectors)
    policy = ScriptedPolicy([[0, 0, 0], [1, 3, 1], [2, 0, 2]])
    episodes = rollout(sim, policy, torch.tensor([0, 1, 2]), config(horizon=3))
    c = 1 / math.sqrt(2)
    expected_0 = 1 - (0 + c + c) / 3  # pairs (0,1) (0,2) (1,2)
    expected_1 = 1 - (-1.0)  # one pair, opposite
    assert episodes.diversity[:2].tolist() == pytest.approx([expected_0, expected_1])
    assert math.isnan(episodes.diversity[2])
    assert summarize(episodes)["diversity"] == pytest.approx((expected_0 + expected_1) / 2)


def test_diversity_without_item_vectors_counts_repeats_as_identical() -> None:
    sim = FixedSimulator([[0] * 3] * 2, leave_after=[100, 100])
    policy = ScriptedPolicy([[0, 0], [1, 0], [0, 0]])
    with pytest.warns(UserWarning, match="FixedSimulator has no item_vectors.*diversity"):
        episodes = rollout(sim, policy, torch.tensor([0, 1]), config(horizon=3, n_users=2))
    # user 0: pairs (0,1) 0, (0,0) 1, (1,0) 0 -> mean 1/3; user 1: all the same item
    assert episodes.diversity.tolist() == pytest.approx([2 / 3, 0.0])


def test_summarize_without_any_pair_reports_zero_diversity() -> None:
    episodes = Episodes(
        returns=np.array([1.0, 0.0]),
        lengths=np.array([1, 1]),
        clicks=np.array([1.0, 0.0]),
        diversity=np.array([np.nan, np.nan]),
        item_counts=np.array([2.0, 0.0, 0.0]),
    )
    summary = summarize(episodes)
    assert summary["diversity"] == 0.0
    assert summary["ctr"] == pytest.approx(0.5) and summary["coverage"] == pytest.approx(1 / 3)


# --- bootstrap intervals ------------------------------------------------------------------------


def test_bootstrap_ci_contains_the_mean_and_is_deterministic_by_seed() -> None:
    values = np.array([0.0, 1.0, 3.0, 2.0, 5.0, 1.0, 0.0, 4.0])
    low, high = bootstrap_ci(values, seed=3)
    assert low < values.mean() < high
    assert bootstrap_ci(values, seed=3) == (low, high)
    assert bootstrap_ci(values, seed=4) != (low, high)
    assert values.min() <= low and high <= values.max()


def test_bootstrap_ci_narrows_with_more_data_and_with_a_lower_level() -> None:
    small = np.tile([0.0, 1.0], 5)
    large = np.tile([0.0, 1.0], 500)
    small_low, small_high = bootstrap_ci(small, seed=0)
    large_low, large_high = bootstrap_ci(large, seed=0)
    assert large_high - large_low < (small_high - small_low) / 5  # about sqrt(100) = 10 times narrower
    assert large_low < 0.5 < large_high
    low_80, high_80 = bootstrap_ci(small, seed=0, level=0.8)
    assert high_80 - low_80 < small_high - small_low


def test_bootstrap_ci_of_constant_values_is_a_point_and_empty_values_raise() -> None:
    assert bootstrap_ci(np.full(7, 2.5), seed=0) == (2.5, 2.5)
    with pytest.raises(ValueError, match="at least one"):
        bootstrap_ci(np.array([]), seed=0)


# --- fair comparison ---------------------------------------------------------------------------


def test_evaluation_users_are_seeded_and_distinct_when_the_population_allows() -> None:
    sim = FixedSimulator([[0, 1]] * 10, leave_after=[5] * 10)
    users = evaluation_users(sim, 6, seed=0)
    assert users.tolist() == evaluation_users(sim, 6, seed=0).tolist()
    assert len(set(users.tolist())) == 6 and all(0 <= u < 10 for u in users.tolist())
    many = evaluation_users(sim, 25, seed=0)
    assert many.shape == (25,) and set(many.tolist()) <= set(range(10))


def test_evaluate_gives_every_policy_the_same_users_and_random_stream() -> None:
    n_users = 6
    sim = FixedSimulator([[1, 1, 0]] * n_users, leave_after=[1, 2, 3, 3, 2, 1], record_draws=True)
    forward, backward = OrderPolicy(3), ScriptedPolicy([[2] * n_users, [1] * n_users, [0] * n_users])
    result = evaluate(sim, {"forward": forward, "backward": backward}, config(horizon=3, n_users=n_users))
    assert result["config"]["n_users"] == n_users and set(result["policies"]) == {"forward", "backward"}
    expected_users = evaluation_users(sim, n_users, seed=0).tolist()
    assert forward.users[0].tolist() == expected_users
    assert backward.observations[0]["user"][:, 0].tolist() == expected_users
    # both runs took three steps and drew the same simulator random numbers
    assert len(sim.draws) == 6
    for a, b in zip(sim.draws[:3], sim.draws[3:], strict=True):
        assert torch.equal(a, b)
    assert result["policies"]["forward"]["session_length"] == pytest.approx(2.0)
    assert result["policies"]["forward"]["return_mean"] == pytest.approx(10 / 6)
    assert result["policies"]["backward"]["return_mean"] == pytest.approx(6 / 6)


def test_evaluate_twice_the_same_random_policy_gives_identical_summaries(tiny_world) -> None:
    eval_config = EvalConfig(n_users=12, horizon=10, history_len=3, seed=5)
    result = evaluate(
        tiny_world,
        {"a": RandomPolicy(tiny_world.n_items), "b": RandomPolicy(tiny_world.n_items)},
        eval_config,
    )
    assert result["policies"]["a"] == result["policies"]["b"]
    other = evaluate(
        tiny_world,
        {"a": RandomPolicy(tiny_world.n_items)},
        EvalConfig(n_users=12, horizon=10, history_len=3, seed=6),
    )
    assert other["policies"]["a"] != result["policies"]["a"]


def test_a_users_session_does_not_depend_on_how_many_are_evaluated(tiny_world) -> None:
    from recgym.baselines import PopularPolicy
    from recgym.evaluation import EvalConfig, evaluation_users, rollout

    policy = PopularPolicy(tiny_world.item_quality.numpy())
    config = EvalConfig(n_users=12, horizon=15, history_len=3, seed=4)
    many = rollout(tiny_world, policy, evaluation_users(tiny_world, 12, seed=4), config)
    few = rollout(tiny_world, policy, evaluation_users(tiny_world, 5, seed=4), config)
    assert np.array_equal(few.returns, many.returns[:5])
    assert np.array_equal(few.lengths, many.lengths[:5])


def test_evaluation_progress_counts_every_policys_steps_and_changes_no_figure(tiny_world, capsys) -> None:
    policies = {"first": RandomPolicy(tiny_world.n_items), "second": RandomPolicy(tiny_world.n_items)}
    eval_config = EvalConfig(n_users=12, horizon=10, history_len=3, seed=5)
    quiet = evaluate(tiny_world, policies, eval_config)
    capsys.readouterr()
    shown = evaluate(tiny_world, policies, eval_config, progress=True)
    bar = capsys.readouterr().err
    assert shown == quiet
    assert "evaluate 2 policies" in bar and "20/20" in bar and "second" in bar
