"""Validation of raw frames into an `InteractionLog`: every bad input names its problem."""

import numpy as np
import pandas as pd
import pytest

from recgym.data import InteractionLog, LogError


def raw(**overrides: list) -> pd.DataFrame:
    columns = {
        "user": [10, 10, 30, 20],
        "item": [7, 5, 7, 9],
        "rating": [4.0, 3.0, 5.0, 1.0],
        "timestamp": [200, 100, 50, 70],
    }
    return pd.DataFrame({**columns, **overrides})


def test_valid_frame_is_indexed_and_sorted() -> None:
    log = InteractionLog.from_frame(raw(), rating_range=(1, 5), name="tiny")
    assert log.n_users == 3 and log.n_items == 3 and len(log) == 4
    assert log.frame["user"].tolist() == [0, 0, 1, 2]
    assert log.frame["timestamp"].tolist() == [100, 200, 70, 50]
    assert log.frame.dtypes.tolist() == [np.int64, np.int64, np.float64, np.int64]
    assert log.report.duplicate_rows == 0


def test_id_maps_round_trip_to_raw_ids() -> None:
    frame = raw()
    log = InteractionLog.from_frame(frame, rating_range=(1, 5))
    back = set(
        zip(
            log.raw_users(log.frame["user"]),
            log.raw_items(log.frame["item"]),
            log.frame["timestamp"],
            strict=True,
        )
    )
    assert back == set(zip(frame["user"], frame["item"], frame["timestamp"], strict=True))


@pytest.mark.parametrize(
    ("frame", "kwargs", "message"),
    [
        (raw().drop(columns=["rating", "timestamp"]), {}, "missing columns"),
        (raw().iloc[:0], {}, "empty"),
        (raw(rating=[4.0, np.nan, 5.0, 1.0]), {}, "NaN"),
        (raw(item=[7, -5, 7, 9]), {}, "negative"),
        (raw(user=[1.5, 10, 30, 20]), {}, "integers"),
        (raw(rating=[4.0, 3.0, 6.0, 1.0]), {"rating_range": (1, 5)}, "outside the range"),
        (raw(rating=[1.0, 0.0, 0.5, 1.0]), {"feedback": "click"}, "0 or 1"),
        (raw(rating=[4.0, 3.0, np.inf, 1.0]), {}, "finite"),
    ],
    ids=["missing", "empty", "nan", "negative", "non-integer", "range", "click", "inf"],
)
def test_bad_input_raises_log_error_naming_the_problem(
    frame: pd.DataFrame, kwargs: dict, message: str
) -> None:
    with pytest.raises(LogError, match=message):
        InteractionLog.from_frame(frame, **kwargs)


def test_duplicates_raise_unless_dropped_and_counted() -> None:
    frame = pd.concat([raw(), raw().iloc[[0, 2]]], ignore_index=True)
    with pytest.raises(LogError, match="2 duplicate"):
        InteractionLog.from_frame(frame)
    with pytest.warns(UserWarning, match="dropped 2"):
        log = InteractionLog.from_frame(frame, drop_duplicates=True)
    assert len(log) == 4
    assert log.report.duplicate_rows == 2


def test_click_log_keeps_impressions_as_negatives() -> None:
    log = InteractionLog.from_frame(raw(rating=[1.0, 0.0, 1.0, 0.0]), feedback="click")
    assert log.rating_range == (0.0, 1.0)
    assert log.has_explicit_negatives
    assert len(log.positives()) == 2


def test_datetime_timestamps_become_seconds() -> None:
    stamps = pd.to_datetime(
        ["1970-01-01 00:00:10", "1970-01-01 00:01", "1970-01-02", "1970-01-01"], format="ISO8601"
    )
    log = InteractionLog.from_frame(raw(timestamp=stamps))
    assert sorted(log.frame["timestamp"].tolist()) == [0, 10, 60, 86400]


def test_as_likes_turns_ratings_into_clicks_and_explicit_non_clicks_keeping_indices() -> None:
    frame = pd.DataFrame(
        {"user": [10, 10, 20], "item": [1, 2, 1], "rating": [5.0, 2.0, 3.0], "timestamp": [0, 1, 2]}
    )
    log = InteractionLog.from_frame(frame, rating_range=(1.0, 5.0), name="tiny")
    likes = log.as_likes()
    assert (likes.feedback, likes.rating_range, likes.name) == ("click", (0.0, 1.0), "tiny-likes")
    assert likes.frame["rating"].tolist() == [1.0, 0.0, 0.0]
    assert likes.has_explicit_negatives and len(likes.positives()) == 1
    assert (likes.n_users, likes.n_items) == (log.n_users, log.n_items)
    assert likes.frame[["user", "item", "timestamp"]].equals(log.frame[["user", "item", "timestamp"]])
    assert likes.as_likes() is likes


@pytest.mark.parametrize("column", ["user", "item", "timestamp"])
def test_a_float_column_cannot_hold_integers_from_2_53_on(column: str) -> None:
    big = float(2**53)  # 2**53 + 1 reads as this: which of the two was meant cannot be known
    frame = raw(**{column: [1.0, 2.0, big, 3.0]})
    with pytest.raises(
        LogError, match=f"column '{column}' has 1 values of magnitude 2\\*\\*53 or more"
    ) as error:
        InteractionLog.from_frame(frame, name="table")
    assert "int64" in str(error.value)
    narrow = raw(**{column: np.array([1, 2, 2**24, 3], dtype=np.float32)})
    with pytest.raises(LogError, match=f"column '{column}' has 1 values of magnitude 2\\*\\*24 or more"):
        InteractionLog.from_frame(narrow, name="table")


def test_integral_floats_below_2_53_are_exact_integers() -> None:
    small = [10.0, 10.0, float(2**53 - 1), 20.0]
    log = InteractionLog.from_frame(raw(user=small, timestamp=[200.0, 100.0, -(2.0**53 - 1), 70.0]))
    assert log.user_ids.tolist() == [10, 20, 2**53 - 1]
    assert sorted(log.frame["timestamp"].tolist()) == [-(2**53 - 1), 70, 100, 200]


def test_an_untimed_log_says_so_through_every_derived_log_and_refuses_what_needs_times() -> None:
    log = InteractionLog.from_frame(
        raw(timestamp=[0, 1, 2, 3]), rating_range=(1, 5), name="untimed", timed=False
    )
    assert InteractionLog.from_frame(raw(), rating_range=(1, 5)).timed
    derived = [log.with_frame(log.frame.iloc[:2]), log.as_likes(), log.as_likes().with_frame(log.frame)]
    assert [d.timed for d in (log, *derived)] == [False] * 4
    assert log.frame["user"].tolist() == [0, 0, 1, 2] and log.frame["timestamp"].tolist() == [0, 1, 3, 2]
    with pytest.raises(LogError, match="untimed: the log has no time column .*, so sessions cannot be seen"):
        log.require_times("sessions cannot be seen")
