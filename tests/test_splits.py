"""Splits on hand-written logs: exactly which rows land where."""

import numpy as np
import pandas as pd
import pytest

from recgym.data import InteractionLog, LogError, leave_last_out, temporal_split
from recgym.data.splits import random_leave_one_out, random_positive_per_user


def rows(log: InteractionLog) -> set[tuple[int, int, int]]:
    """(raw user, raw item, timestamp) of every row."""
    frame = log.frame
    users, items = log.raw_users(frame["user"]), log.raw_items(frame["item"])
    return set(zip(users.tolist(), items.tolist(), frame["timestamp"].tolist(), strict=True))


def log_of(
    records: list[tuple[int, int, float, int]], feedback: str = "rating", timed: bool = True
) -> InteractionLog:
    frame = pd.DataFrame(records, columns=["user", "item", "rating", "timestamp"])
    return InteractionLog.from_frame(frame, feedback=feedback, timed=timed)


def test_leave_last_out_holds_out_the_two_latest_per_user() -> None:
    log = log_of(
        [
            # user 1: four ratings, written out of time order
            (1, 10, 4, 30),
            (1, 11, 2, 10),
            (1, 12, 5, 40),
            (1, 13, 3, 20),
            # user 2: exactly three, the last two share a timestamp: the later row is the latest
            (2, 10, 1, 5),
            (2, 14, 4, 9),
            (2, 15, 3, 9),
            # user 3: two ratings, too few to hold any out
            (3, 10, 5, 1),
            (3, 11, 4, 2),
        ]  # fmt: skip
    )
    split = leave_last_out(log)
    assert rows(split.test) == {(1, 12, 40), (2, 15, 9)}
    assert rows(split.valid) == {(1, 10, 30), (2, 14, 9)}
    assert rows(split.train) == {(1, 11, 10), (1, 13, 20), (2, 10, 5), (3, 10, 1), (3, 11, 2)}
    assert split.kept_in_train == 1
    assert split.train.n_users == log.n_users  # same id maps across parts


def test_leave_last_out_keeps_click_impressions_in_train() -> None:
    log = log_of(
        [
            # user 1: three clicks and two later impressions that were not clicked
            (1, 10, 1, 1),
            (1, 11, 1, 2),
            (1, 12, 1, 3),
            (1, 13, 0, 4),
            (1, 14, 0, 5),
            # user 2: two clicks among many impressions: kept whole in train
            (2, 10, 1, 1),
            (2, 11, 0, 2),
            (2, 12, 0, 3),
            (2, 13, 1, 4),
            # user 3: only impressions
            (3, 10, 0, 1),
        ],  # fmt: skip
        feedback="click",
    )
    split = leave_last_out(log)
    assert rows(split.test) == {(1, 12, 3)}
    assert rows(split.valid) == {(1, 11, 2)}
    assert rows(split.train) == rows(log) - {(1, 12, 3), (1, 11, 2)}
    assert split.kept_in_train == 2


def test_leave_last_out_with_nothing_to_hold_out_raises() -> None:
    with pytest.raises(LogError, match="3 positives"):
        leave_last_out(log_of([(1, 10, 4, 1), (1, 11, 4, 2)]))


def test_temporal_split_orders_parts_in_time() -> None:
    log = log_of([(user, item, 3, 10 * item + user) for user in range(4) for item in range(5)])
    split = temporal_split(log, valid_fraction=0.2, test_fraction=0.1)
    assert (len(split.train), len(split.valid), len(split.test)) == (14, 4, 2)
    assert split.train.frame["timestamp"].max() < split.valid.frame["timestamp"].min()
    assert split.valid.frame["timestamp"].max() < split.test.frame["timestamp"].min()
    assert split.kept_in_train == 0
    assert rows(split.test) == {(2, 4, 42), (3, 4, 43)}


def test_temporal_split_empty_part_raises() -> None:
    log = log_of([(1, 10, 4, 7), (2, 11, 4, 7), (3, 12, 4, 7)])
    with pytest.raises(LogError, match="empty"):
        temporal_split(log)
    with pytest.raises(ValueError, match="fractions"):
        temporal_split(log, valid_fraction=0.6, test_fraction=0.5)


def by_user_then_item(n_users: int = 40, per_user: int = 8) -> InteractionLog:
    """An untimed click log listed by user, then item (the row number as timestamp): each user's last
    rows are their highest item ids, plus one impression that was not clicked per user."""
    records = [(u, u + 3 * j, 1, u * (per_user + 1) + j) for u in range(n_users) for j in range(per_user)]
    records += [(u, 500 + u, 0, u * (per_user + 1) + per_user) for u in range(n_users)]
    return log_of(sorted(records, key=lambda r: r[3]), feedback="click", timed=False)


def test_random_leave_one_out_holds_out_one_random_positive_per_user_for_test_and_one_for_valid() -> None:
    log = by_user_then_item()
    split = random_leave_one_out(log, np.random.default_rng(0))
    test, valid = split.test.frame, split.valid.frame
    assert sorted(test["user"]) == sorted(valid["user"]) == list(range(log.n_users))
    assert (test["rating"] == 1).all() and (valid["rating"] == 1).all()  # impressions stay in train
    assert len(split.train) + len(split.valid) + len(split.test) == len(log) and split.kept_in_train == 0
    assert rows(split.train) | rows(split.valid) | rows(split.test) == rows(log)
    highest = log.positives().groupby("user")["item"].max()
    at_highest = (test.set_index("user")["item"] == highest).mean()
    assert at_highest < 0.3  # leave-last-out, reading the file's order, would give 1.0
    assert (leave_last_out(log).test.frame.set_index("user")["item"] == highest).all()


def test_random_leave_one_out_follows_its_generator_alone() -> None:
    log = by_user_then_item()
    first, again = (random_leave_one_out(log, np.random.default_rng(3)) for _ in range(2))
    other = random_leave_one_out(log, np.random.default_rng(4))
    assert rows(first.test) == rows(again.test) and rows(first.valid) == rows(again.valid)
    assert rows(first.test) != rows(other.test)
    with pytest.raises(LogError, match="3 positives a random split needs"):
        random_leave_one_out(log_of([(1, 10, 4, 1), (1, 11, 4, 2)]), np.random.default_rng(0))


def test_random_positive_per_user_picks_one_positive_of_each_user_and_leaves_the_log_whole() -> None:
    log = by_user_then_item()
    sample = random_positive_per_user(log, np.random.default_rng(0))
    assert sorted(sample.frame["user"]) == list(range(log.n_users))
    assert rows(sample) <= rows(log.with_frame(log.positives())) and not sample.timed
    assert rows(sample) == rows(random_positive_per_user(log, np.random.default_rng(0)))


def test_a_temporal_split_of_an_untimed_log_is_refused_by_name() -> None:
    log = log_of([(user, item, 3, 10 * item + user) for user in range(4) for item in range(5)], timed=False)
    with pytest.raises(LogError, match="log: the log has no time column .*temporal split cannot be made"):
        temporal_split(log)
    assert not leave_last_out(log).test.timed  # the file's order is still each user's order
