"""Baseline policies: never repeat while unshown items remain; popularity order; greedy argmax."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from fakes import FixedSimulator

from recgym.baselines import GreedyPolicy, PopularPolicy, RandomPolicy, item_popularity
from recgym.policy import Policy, top_allowed
from recgym.random import RowStreams
from recgym.sessions import Sessions

N_ITEMS = 6


def observation(users: list[int]) -> dict[str, torch.Tensor]:
    batch = len(users)
    return {
        "user": torch.tensor(users)[:, None],
        "recent_items": torch.zeros(batch, 3, dtype=torch.long),
        "recent_responses": torch.zeros(batch, 3),
    }


def shown_mask() -> torch.Tensor:
    """Four sessions: nothing shown, two shown, all but item 4 shown, everything shown."""
    shown = torch.zeros(4, N_ITEMS, dtype=torch.bool)
    shown[1, [0, 3]] = True
    shown[2] = True
    shown[2, 4] = False
    shown[3] = True
    return shown


def policies() -> dict[str, Policy]:
    counts = np.array([3, 10, 10, 1, 7, 0])
    scores = torch.tensor([[0.1, 0.9, 0.3, 0.8, 0.2, 0.5]] * 4)
    return {
        "random": RandomPolicy(N_ITEMS),
        "popular": PopularPolicy(counts),
        "greedy": GreedyPolicy(lambda users: scores[users]),
    }


@pytest.mark.parametrize("name", ["random", "popular", "greedy"])
def test_never_recommends_a_shown_item_while_unshown_ones_remain(name: str) -> None:
    policy = policies()[name]
    assert isinstance(policy, Policy)
    shown = shown_mask()
    generator = torch.Generator().manual_seed(0)
    for _ in range(50):
        items = policy.act(observation([0, 1, 2, 3]), ~shown, generator)[:, 0]
        assert items.dtype == torch.long
        assert not shown[:3].gather(1, items[:3, None]).any()
        assert items[2] == 4  # the one unshown item
        assert 0 <= items[3] < N_ITEMS  # everything shown: any valid item


@pytest.mark.parametrize("name", ["random", "popular", "greedy"])
def test_a_session_of_n_items_steps_shows_every_item_once(name: str) -> None:
    sim = FixedSimulator([[0] * N_ITEMS] * 4, leave_after=[100] * 4)
    sessions = Sessions(sim, batch_size=4, history_len=N_ITEMS, horizon=N_ITEMS)
    generator, rng = torch.Generator().manual_seed(0), RowStreams.from_seed(0, 4)
    sessions.reset(torch.arange(4), rng)
    policy = policies()[name]
    for _ in range(N_ITEMS):
        sessions.step(policy.act(sessions.observation(), sessions.action_mask(), generator), rng)
    assert sessions.shown.all()
    history = sessions.observation()["recent_items"] - 1
    assert (history.sort(dim=1).values == torch.arange(N_ITEMS)).all()


def test_popular_recommends_in_count_order_ties_by_lower_index() -> None:
    policy = PopularPolicy(np.array([3, 10, 10, 1, 7, 0]))
    shown = torch.zeros(1, N_ITEMS, dtype=torch.bool)
    order = []
    for _ in range(N_ITEMS):
        item = int(policy.act(observation([0]), ~shown, torch.Generator())[0, 0])
        order.append(item)
        shown[0, item] = True
    assert order == [1, 2, 4, 0, 3, 5]


def test_popular_ties_break_by_index_even_with_large_counts() -> None:
    policy = PopularPolicy(torch.tensor([5, 1_000_000, 1_000_000, 1_000_000]))
    shown = torch.tensor([[False, False, False, False], [False, True, False, False]])
    assert policy.act(observation([0, 1]), ~shown, torch.Generator()).tolist() == [[1], [2]]


def test_item_popularity_counts_positive_interactions() -> None:
    counts = item_popularity(np.array([2, 0, 2, 2, 1]), n_items=4)
    assert counts.tolist() == [1, 1, 3, 0]


def test_greedy_takes_the_argmax_of_each_users_scores() -> None:
    scores = torch.tensor(
        [
            [0.1, 0.9, 0.3, 0.8, 0.2, 0.5],
            [0.7, -1.0, 0.0, 0.1, 2.0, 0.3],
            [-3.0, -2.0, -1.0, -5.0, -4.0, -6.0],
        ]
    )
    asked: list[list[int]] = []

    def score_all(users: torch.Tensor) -> torch.Tensor:
        asked.append(users.tolist())
        return scores[users]

    policy = GreedyPolicy(score_all)
    none_shown = torch.zeros(3, N_ITEMS, dtype=torch.bool)
    assert policy.act(observation([2, 0, 1]), ~none_shown, torch.Generator())[:, 0].tolist() == [2, 1, 4]
    assert asked == [[2, 0, 1]]
    shown = none_shown.clone()
    shown[0, 2] = shown[1, 1] = shown[2, 4] = True
    assert policy.act(observation([2, 0, 1]), ~shown, torch.Generator())[:, 0].tolist() == [1, 3, 0]


def test_top_allowed_falls_back_to_the_overall_best_when_nothing_is_allowed() -> None:
    scores = torch.tensor([[0.2, 0.9, 0.5], [0.2, 0.9, 0.5]])
    allowed = torch.tensor([[False, False, False], [True, False, True]])
    assert top_allowed(scores, allowed).tolist() == [[1], [2]]
    assert top_allowed(scores, allowed, k=2).tolist() == [[1, 2], [2, 0]]


def test_random_is_deterministic_given_the_generator() -> None:
    policy = RandomPolicy(N_ITEMS)
    shown = torch.zeros(16, N_ITEMS, dtype=torch.bool)

    def draws(seed: int) -> list[list[int]]:
        generator = torch.Generator().manual_seed(seed)
        return [policy.act(observation([0] * 16), ~shown, generator).tolist() for _ in range(5)]

    assert draws(0) == draws(0)
    assert draws(0) != draws(1)


def test_random_is_uniform_over_unshown_items() -> None:
    shown = torch.zeros(3000, N_ITEMS, dtype=torch.bool)
    shown[:, [0, 2, 5]] = True
    items = RandomPolicy(N_ITEMS).act(observation([0] * 3000), ~shown, torch.Generator().manual_seed(0))[:, 0]
    frequencies = torch.bincount(items, minlength=N_ITEMS).float() / 3000
    assert frequencies[[0, 2, 5]].tolist() == [0.0, 0.0, 0.0]
    assert frequencies[[1, 3, 4]].tolist() == pytest.approx([1 / 3] * 3, abs=0.04)
