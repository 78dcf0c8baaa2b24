"""Properties of `InteractionLog.from_frame` (docs/ROBUSTNESS.md): any table becomes either a faithful
log or a `LogError` naming what is wrong, never a pandas internal error or a silently altered log."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recgym.data import InteractionLog, LogError
from recgym.data.interactions import COLUMNS

INT64 = 2**63
BIG = 2**53  # from here on float64 cannot tell neighbouring integers apart
HALF_STARS = [0.5 * k for k in range(1, 11)]
TIME = st.integers(-(2**40), 2**40) | st.integers(-INT64, INT64 - 1) | st.integers(16 * 10**17, 18 * 10**17)


@st.composite
def valid_frames(draw: st.DrawFn) -> pd.DataFrame:
    """1-30 rows of non-negative int64 ids (some near 2**53), half-star ratings and int64 times
    (nanosecond-scale ones included); (user, item, time) unique. Items, and times below 2**53, are
    sometimes integral float64s."""
    user = st.integers(0, 5) | st.integers(BIG - 3, BIG + 3) | st.integers(0, INT64 - 1)
    keys = st.tuples(user, st.integers(0, 9), TIME)
    rows = draw(st.lists(keys, min_size=1, max_size=30, unique=True))
    ratings = draw(st.lists(st.sampled_from(HALF_STARS), min_size=len(rows), max_size=len(rows)))
    users, items, times = (list(column) for column in zip(*rows, strict=True))
    frame = pd.DataFrame({"user": users, "item": items, "rating": ratings, "timestamp": times})
    floats = draw(st.sets(st.sampled_from(["item", "timestamp"])), label="float columns")
    if max(abs(time) for time in times) >= BIG:
        floats.discard("timestamp")
    return frame.astype(dict.fromkeys(floats, np.float64))


def set_cell(frame: pd.DataFrame, column: str, row: int, value: object) -> pd.DataFrame:
    values = frame[column].astype(object)
    values.iloc[row] = value
    return frame.assign(**{column: values})


def float_from_2_53(frame: pd.DataFrame, column: str, row: int) -> pd.DataFrame:
    """The column as float64 with a value from 2**53 on, where a float cannot hold integers exactly."""
    values = frame[column].to_numpy(dtype=np.float64, copy=True)
    values[row] = 2.0 ** (53 + row % 11)
    return frame.assign(**{column: values})


IDS_AND_TIME = ("user", "item", "timestamp")
Fault = Callable[[pd.DataFrame, str, int], pd.DataFrame]
FAULTS: dict[str, tuple[tuple[str, ...], Fault]] = {
    "nan": (COLUMNS, lambda f, c, r: set_cell(f, c, r, math.nan)),
    "infinite": (COLUMNS, lambda f, c, r: set_cell(f, c, r, -math.inf if r % 2 else math.inf)),
    "text": (COLUMNS, lambda f, c, r: set_cell(f, c, r, "n/a")),
    "negative id": (("user", "item"), lambda f, c, r: set_cell(f, c, r, -1 - r)),
    "fraction": (IDS_AND_TIME, lambda f, c, r: set_cell(f, c, r, r + 0.5)),
    "beyond int64": (IDS_AND_TIME, lambda f, c, r: set_cell(f, c, r, INT64 + r)),
    "float from 2**53": (IDS_AND_TIME, float_from_2_53),
    "booleans": (IDS_AND_TIME, lambda f, c, r: f.assign(**{c: f[c] % 2 == 0})),
    "complex": (("rating",), lambda f, c, r: f.assign(rating=f["rating"] + 1j)),
    "missing": (COLUMNS, lambda f, c, r: f.drop(columns=c)),
    "repeated": (COLUMNS, lambda f, c, r: pd.concat([f, f[[c]]], axis=1)),
    "no rows": (("empty",), lambda f, c, r: f.iloc[:0]),
}
CASES = [(fault, column) for fault, (columns, _) in FAULTS.items() for column in columns]


@settings(max_examples=300)
@given(frame=valid_frames(), case=st.sampled_from(CASES), data=st.data())
@pytest.mark.slow
def test_one_fault_raises_a_log_error_naming_the_column(frame, case, data) -> None:
    fault, column = case
    row = data.draw(st.integers(0, len(frame) - 1), label="row")
    bad = FAULTS[fault][1](frame, column, row)
    with pytest.raises(LogError, match=column) as error:
        InteractionLog.from_frame(bad, name="table")
    assert str(error.value).startswith("table: ")


@settings(max_examples=150)
@given(frame=valid_frames())
@pytest.mark.slow
def test_valid_frames_round_trip(frame) -> None:
    log = InteractionLog.from_frame(frame, name="table")
    assert records(log) == sorted(frame.itertuples(index=False, name=None))
    assert log.frame.dtypes.tolist() == [np.int64, np.int64, np.float64, np.int64]
    assert log.frame.groupby("user")["timestamp"].is_monotonic_increasing.all()


BAD_RANGES = st.one_of(
    st.tuples(st.floats(), st.floats()).filter(lambda r: not (all(map(math.isfinite, r)) and r[0] <= r[1])),
    st.lists(st.floats(0, 5), max_size=4).filter(lambda r: len(r) != 2).map(tuple),
    st.tuples(st.text(alphabet="xyz", max_size=2), st.just(5.0)),
)


@settings(max_examples=150)
@given(
    frame=valid_frames(), rating_range=BAD_RANGES, feedback=st.text(max_size=6), bad_feedback=st.booleans()
)
@pytest.mark.slow
def test_a_bad_rating_range_or_feedback_raises_a_value_error_naming_it(
    frame, rating_range, feedback, bad_feedback
) -> None:
    if bad_feedback and feedback not in ("click", "rating"):
        with pytest.raises(ValueError, match="feedback"):
            InteractionLog.from_frame(frame, feedback=feedback)
    with pytest.raises(ValueError, match="rating_range"):
        InteractionLog.from_frame(frame, rating_range=rating_range)


CELLS = st.one_of(
    st.integers(0, 9),
    st.integers(-(2**66), 2**66),
    st.floats(),
    st.booleans(),
    st.none(),
    st.complex_numbers(max_magnitude=5),
    st.text(alphabet="0123456789.-+e x", max_size=4),
)


@st.composite
def any_frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 4))
    return pd.DataFrame({c: draw(st.lists(CELLS, min_size=n, max_size=n)) for c in COLUMNS})


@settings(max_examples=400)
@given(frame=any_frames(), feedback=st.sampled_from(["rating", "click"]))
@pytest.mark.slow
def test_any_table_is_a_faithful_log_or_a_log_error(frame, feedback) -> None:
    try:
        log = InteractionLog.from_frame(frame, feedback=feedback, name="table")
    except LogError as error:
        assert str(error).startswith("table: ")
        return
    expected = [
        (as_integer(user), as_integer(item), as_real(rating), as_integer(time))
        for user, item, rating, time in frame.itertuples(index=False, name=None)
    ]
    assert records(log) == sorted(expected)
    low, high = log.rating_range
    assert log.frame["rating"].between(low, high).all() and math.isfinite(low) and math.isfinite(high)
    assert sorted(set(log.frame["user"])) == list(range(log.n_users))


def records(log: InteractionLog) -> list[tuple]:
    """The log's rows in raw ids, sorted."""
    frame = log.frame
    users, items = log.raw_users(frame["user"]).tolist(), log.raw_items(frame["item"]).tolist()
    return sorted(zip(users, items, frame["rating"], frame["timestamp"], strict=True))


def as_integer(value: object) -> int:
    """The int64 a cell stands for; AssertionError when it stands for none (the log accepted junk)."""
    assert value is not None and not isinstance(value, bool | np.bool_ | complex)
    number = float(value) if isinstance(value, str) else value
    assert math.isfinite(number) and float(number).is_integer() and -INT64 <= number < INT64
    return int(number)


def as_real(value: object) -> float:
    """The finite rating a cell stands for; AssertionError when it stands for none."""
    assert value is not None and not isinstance(value, complex)
    number = float(value)
    assert math.isfinite(number)
    return number
