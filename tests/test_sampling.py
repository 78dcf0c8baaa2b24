"""Negative sampling: never a known item, no repeats in a row, seeded determinism, uniformity."""

import numpy as np
import pandas as pd
import pytest

from recgym.data import InteractionLog, sample_negatives, user_item_sets


@pytest.fixture
def log() -> InteractionLog:
    """4 users over 8 items; user 0 knows 6 items (one twice), user 3 only an unclicked impression."""
    records = [(0, item, 1, item) for item in (0, 2, 3, 5, 6, 7)] + [(0, 2, 1, 99)]
    records += [(1, 1, 1, 0), (1, 4, 0, 1), (2, 7, 1, 0), (3, 3, 0, 0), (2, 0, 1, 5), (2, 6, 1, 3)]
    frame = pd.DataFrame(records, columns=["user", "item", "rating", "timestamp"])
    return InteractionLog.from_frame(frame, feedback="click")


def test_user_item_sets_is_csr_of_all_rows(log: InteractionLog) -> None:
    sets = user_item_sets(log)
    assert sets.indptr.tolist() == [0, 6, 8, 11, 12]
    assert sets.items_of(0).tolist() == [0, 2, 3, 5, 6, 7]
    assert sets.items_of(3).tolist() == [3]  # impressions count as known
    assert sets.contains(np.array([0, 0, 2, 3]), np.array([2, 4, 6, 3])).tolist() == [True, False, True, True]


def test_negatives_are_unknown_and_distinct(log: InteractionLog) -> None:
    sets = user_item_sets(log)
    users = np.array([0, 1, 2, 3, 1, 2] * 50)
    negatives = sample_negatives(users, 2, log.n_items, sets, np.random.default_rng(0))
    assert negatives.shape == (300, 2) and negatives.dtype == np.int64
    assert not sets.contains(users[:, None], negatives).any()
    assert (negatives[:, 0] != negatives[:, 1]).all()
    assert set(negatives[users == 0].ravel().tolist()) == {1, 4}  # user 0 has exactly two free items
    others = users[users != 0]  # users 1-3 have 5 to 7 free items: some rows take all of them
    wide = sample_negatives(others, 5, log.n_items, sets, np.random.default_rng(1))
    assert not sets.contains(others[:, None], wide).any()
    assert all(len(set(row)) == 5 for row in wide.tolist())


def test_negatives_are_uniform_over_free_items(log: InteractionLog) -> None:
    sets = user_item_sets(log)
    negatives = sample_negatives(np.full(20_000, 2), 1, log.n_items, sets, np.random.default_rng(2))
    counts = np.bincount(negatives.ravel(), minlength=log.n_items)
    assert counts[[0, 6, 7]].sum() == 0
    assert np.allclose(counts[[1, 2, 3, 4, 5]] / 20_000, 0.2, atol=0.02)


def test_negatives_are_deterministic_for_a_seed(log: InteractionLog) -> None:
    sets = user_item_sets(log)
    users = np.array([1, 2, 3, 1])
    first = sample_negatives(users, 4, log.n_items, sets, np.random.default_rng(7))
    again = sample_negatives(users, 4, log.n_items, sets, np.random.default_rng(7))
    other = sample_negatives(users, 4, log.n_items, sets, np.random.default_rng(8))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_negatives_beyond_the_log_items(log: InteractionLog) -> None:
    sets = user_item_sets(log)
    negatives = sample_negatives(np.zeros(100, dtype=np.int64), 3, 10, sets, np.random.default_rng(3))
    assert set(negatives.ravel().tolist()) == {1, 4, 8, 9}


def test_impossible_request_raises(log: InteractionLog) -> None:
    sets = user_item_sets(log)
    with pytest.raises(ValueError, match="user 0 has 2 non-interacted items, fewer than n_per_user=3"):
        sample_negatives(np.array([1, 0]), 3, log.n_items, sets, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_items"):
        sample_negatives(np.array([1]), 1, 5, sets, np.random.default_rng(0))
