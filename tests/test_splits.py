"""Splits on hand-written logs: exactly which rows land where."""

import pandas as pd
import pytest

from recgym.data import InteractionLog, LogError, leave_last_out, temporal_split


def rows(log: InteractionLog) -> set[tuple[int, int, int]]:
    """(raw user, raw item, timestamp) of every row."""
    frame = log.frame
    users, items = log.raw_users(frame["user"]), log.raw_items(frame["item"])
    return set(zip(users.tolist(), items.tolist(), frame["timestamp"].tolist(), strict=True))


def log_of(records: list[tuple[int, int, float, int]], feedback: str = "rating") -> InteractionLog:
    frame = pd.DataFrame(records, columns=["user", "item", "rating", "timestamp"])
    return InteractionLog.from_frame(frame, feedback=feedback)


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
