"""Ranking metrics against hand-computed values, with fake models whose scores are a fixed table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from recgym.data.interactions import InteractionLog
from recgym.models import contract
from recgym.models.metrics import evaluate_ranking, full_ranks, hit_rate, ndcg, sampled_ranks


class TableModel(nn.Module):
    """Scores read from a fixed table [n_users, n_items]; records every (user, item) it scores and the
    size of every full-catalog block."""

    def __init__(self, table: torch.Tensor):
        super().__init__()
        self.register_buffer("table", table)
        self.n_items = table.shape[1]
        self.scored: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.blocks: list[int] = []

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        self.scored.append((users.clone(), items.clone()))
        return self.table[users, items]

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        self.blocks.append(len(users))
        return self.table[users]


# user 0: item 1 scores 0.5, item 3 ties it, items 0 and 4 beat it, item 2 loses to it.
TABLE = torch.tensor([[0.9, 0.5, 0.1, 0.5, 0.7], [0.0, 0.1, 0.2, 0.3, 0.4]])


def test_hit_rate_and_ndcg_by_hand() -> None:
    ranks = torch.tensor([0, 2, 10])
    assert hit_rate(ranks, 10) == pytest.approx(2 / 3)
    assert ndcg(ranks, 10) == pytest.approx((1 + 1 / math.log2(4) + 0) / 3)
    assert hit_rate(ranks, 1) == pytest.approx(1 / 3)
    assert ndcg(ranks, 1) == pytest.approx(1 / 3)


def test_sampled_ranks_count_ties_against_the_model() -> None:
    model = TableModel(TABLE)
    users, items = torch.tensor([0, 1]), torch.tensor([1, 4])
    negatives = torch.tensor([[0, 2, 3], [0, 1, 2]])
    # user 0: 0.9 beats, 0.1 loses, 0.5 ties -> 2; user 1: the best item -> 0.
    assert sampled_ranks(model, users, items, negatives).tolist() == [2, 0]
    assert sampled_ranks(model, users, items, negatives, chunk_size=1).tolist() == [2, 0]
    constant = TableModel(torch.zeros(2, 5))
    assert sampled_ranks(constant, users, items, negatives).tolist() == [3, 3]


def test_full_ranks_exclude_known_items_but_never_the_target() -> None:
    model = TableModel(TABLE)
    users, items = torch.tensor([0, 1]), torch.tensor([1, 0])
    # user 0 against items 0, 2, 3, 4: 0.9, 0.5 (tie) and 0.7 count -> 3; user 1 holds the worst item -> 4.
    assert full_ranks(model, users, items, [[], []]).tolist() == [3, 4]
    # excluding item 0 for user 0 and items 3, 4 for user 1 removes competitors.
    assert full_ranks(model, users, items, [[0], [3, 4]]).tolist() == [2, 2]
    csr = (np.array([0, 1, 3]), np.array([0, 3, 4]))
    assert full_ranks(model, users, items, csr, chunk_size=1).tolist() == [2, 2]
    # the held-out item listed as known still competes for its place: rank as if not listed.
    assert full_ranks(model, users, items, [[1], [0]]).tolist() == [3, 4]
    constant = TableModel(torch.zeros(2, 5))
    assert full_ranks(constant, users, items, [[0], []]).tolist() == [3, 4]


def _logs(n_users: int = 5, per_user: int = 4) -> tuple[InteractionLog, InteractionLog]:
    """User u rated items per_user*u .. per_user*u + per_user - 1 in order; the last one is held out."""
    users = np.repeat(np.arange(n_users), per_user)
    items = np.arange(n_users * per_user)
    frame = pd.DataFrame(
        {"user": users, "item": items, "rating": 4.0, "timestamp": np.tile(np.arange(per_user), n_users)}
    )
    log = InteractionLog.from_frame(frame, feedback="rating", rating_range=(1, 5))
    held = log.frame.groupby("user").tail(1)
    return log.with_frame(log.frame.drop(held.index)), log.with_frame(held)


def _table(held_out: InteractionLog, target: float) -> torch.Tensor:
    """Scores 0.5 everywhere except `target` on each user's held-out item."""
    table = torch.full((held_out.n_users, held_out.n_items), 0.5)
    table[
        torch.tensor(held_out.frame["user"].to_numpy()), torch.tensor(held_out.frame["item"].to_numpy())
    ] = target
    return table


def test_oracle_gets_one_and_adversary_gets_zero() -> None:
    train, held_out = _logs()
    oracle = evaluate_ranking(TableModel(_table(held_out, 1.0)), train, held_out, n_negatives=15)
    assert oracle == {
        "sampled": {"hr@10": 1.0, "ndcg@10": 1.0},
        "full": {"hr@10": 1.0, "ndcg@10": 1.0},
        "n_users": 5,
    }
    adversary = evaluate_ranking(TableModel(_table(held_out, 0.0)), train, held_out, n_negatives=15)
    assert adversary["sampled"] == {"hr@10": 0.0, "ndcg@10": 0.0}
    assert adversary["full"] == {"hr@10": 0.0, "ndcg@10": 0.0}
    at_five = evaluate_ranking(TableModel(_table(held_out, 1.0)), train, held_out, k=5, n_negatives=3)
    assert set(at_five["full"]) == {"hr@5", "ndcg@5"}


def test_negatives_are_unseen_and_distinct() -> None:
    train, held_out = _logs()
    model = TableModel(_table(held_out, 1.0))
    evaluate_ranking(model, train, held_out, n_negatives=16)  # exactly every unseen item
    users, items = model.scored[0]
    candidates = items.view(5, 17)  # [user, held-out item + 16 negatives]
    assert users.view(5, 17).eq(torch.arange(5)[:, None]).all()
    for user in range(5):
        seen = set(range(4 * user, 4 * user + 4))
        assert sorted(candidates[user, 1:].tolist()) == sorted(set(range(20)) - seen)


def test_fixed_seed_is_deterministic() -> None:
    train, held_out = _logs()
    table = torch.rand(5, 20, generator=torch.Generator().manual_seed(0))
    first, second, other = TableModel(table), TableModel(table), TableModel(table)
    assert evaluate_ranking(first, train, held_out, n_negatives=8, seed=3) == evaluate_ranking(
        second, train, held_out, n_negatives=8, seed=3
    )
    evaluate_ranking(other, train, held_out, n_negatives=8, seed=4)
    assert torch.equal(first.scored[0][1], second.scored[0][1])
    assert not torch.equal(first.scored[0][1], other.scored[0][1])


def test_a_catalog_too_small_for_the_negatives_draws_what_every_user_has_and_says_so() -> None:
    train, held_out = _logs()  # 20 items, 4 known per user: 16 candidates each
    result = evaluate_ranking(TableModel(_table(held_out, 1.0)), train, held_out, n_negatives=17)
    assert result["n_negatives"] == 16 and result["sampled"]["hr@10"] == 1.0
    assert "n_negatives" not in evaluate_ranking(
        TableModel(_table(held_out, 1.0)), train, held_out, n_negatives=16
    )


def test_a_user_who_knows_every_item_raises() -> None:
    train, held_out = _logs(n_users=1)
    with pytest.raises(ValueError, match="interacted with every item"):
        evaluate_ranking(TableModel(_table(held_out, 1.0)), train, held_out, n_negatives=3)


def test_a_full_catalog_block_fills_the_memory_budget_and_never_exceeds_it() -> None:
    for n_items in (1, 9, 1_682, 23_715, 100_000):
        users = contract.users_per_block(n_items)
        assert users * n_items * contract.BYTES_PER_SCORE <= contract.SCORING_BUDGET
        assert (users + 1) * n_items * contract.BYTES_PER_SCORE > contract.SCORING_BUDGET
    assert contract.users_per_block(10**9) == 1  # one user's row is the least a block can hold


def test_ranking_in_budget_sized_blocks_equals_ranking_in_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    train, held_out = _logs(n_users=7, per_user=4)  # 28 items, 3 known per user
    table = torch.rand(7, 28, generator=torch.Generator().manual_seed(1)).round(decimals=1)  # with ties
    whole = TableModel(table)
    one_block = evaluate_ranking(whole, train, held_out, n_negatives=10)
    assert whole.blocks == [7]
    monkeypatch.setattr(contract, "SCORING_BUDGET", 2 * 28 * contract.BYTES_PER_SCORE)  # 2 users a block
    blocked = TableModel(table)
    assert evaluate_ranking(blocked, train, held_out, n_negatives=10) == one_block
    assert blocked.blocks == [2, 2, 2, 1]
    users, items = torch.tensor([6, 0, 3]), torch.tensor([27, 0, 13])
    known = [[1, 2], [], [], [13, 27], [], [], [26, 27, 0]]
    assert (
        full_ranks(blocked, users, items, known).tolist()
        == full_ranks(whole, users, items, known, chunk_size=3).tolist()
    )
