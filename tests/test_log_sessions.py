"""Cutting logs into sessions: given gaps, positions and lengths, the data-driven threshold, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recgym.data import InteractionLog, LogError
from recgym.data.log_sessions import otsu_gap, split_sessions


def log_of(rows: list[tuple[int, int, float, int]], feedback: str = "click") -> InteractionLog:
    frame = pd.DataFrame(rows, columns=["user", "item", "rating", "timestamp"])
    return InteractionLog.from_frame(frame, feedback=feedback)  # type: ignore[arg-type]


def test_a_gap_longer_than_the_threshold_starts_a_session() -> None:
    # user 0: visits at t=0,10,20 then t=5000,5010; user 1: t=100 then t=100 (same second)
    log = log_of(
        [
            (0, 0, 1, 0),
            (0, 1, 0, 10),
            (0, 2, 1, 20),
            (0, 3, 1, 5000),
            (0, 4, 0, 5010),
            (1, 0, 1, 100),
            (1, 1, 1, 100),
        ]
    )
    result = split_sessions(log, gap_seconds=1800)
    assert result.rows["session"].tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert result.rows["position"].tolist() == [0, 1, 2, 0, 1, 0, 1]
    assert result.rows["session_length"].tolist() == [3, 3, 3, 2, 2, 2, 2]
    assert result.sessions[["user", "start", "end", "length", "likes"]].values.tolist() == [
        [0, 0, 20, 3, 2],
        [0, 5000, 5010, 2, 1],
        [1, 100, 100, 2, 2],
    ]


def test_rows_are_put_in_time_order_first() -> None:
    log = log_of([(0, 0, 1, 9000), (0, 1, 1, 0), (0, 2, 1, 30)])
    result = split_sessions(log, gap_seconds=60)
    assert result.rows["timestamp"].tolist() == [0, 30, 9000]
    assert result.sessions["length"].tolist() == [2, 1]


def test_the_default_threshold_separates_visits_from_the_time_between_them() -> None:
    rng = np.random.default_rng(0)
    rows, t = [], 0
    for user in range(30):
        for _visit in range(6):
            t += int(rng.integers(2 * 86_400, 10 * 86_400))  # days between visits
            for item in range(int(rng.integers(3, 12))):
                t += int(rng.integers(5, 120))  # seconds to minutes within a visit
                rows.append((user, item, 1.0, t))
    log = log_of(rows)
    gap = otsu_gap(log)
    assert 120 < gap < 2 * 86_400
    assert len(split_sessions(log).sessions) == 30 * 6


def test_a_log_without_timestamps_is_one_session_per_user() -> None:
    log = log_of([(0, 0, 1, 0), (0, 1, 1, 0), (1, 0, 1, 0)])
    assert otsu_gap(log) == float("inf")
    assert split_sessions(log).sessions["length"].tolist() == [2, 1]


@pytest.mark.parametrize("gap", [0.0, -5.0, float("nan")])
def test_a_gap_that_is_not_positive_is_refused(gap: float) -> None:
    with pytest.raises(LogError, match="session gap must be a positive number"):
        split_sessions(log_of([(0, 0, 1, 0)]), gap_seconds=gap)


def test_an_untimed_log_is_refused_by_name_since_its_gaps_are_row_counts() -> None:
    frame = pd.DataFrame(
        {"user": [0, 0, 0, 1], "item": [0, 1, 2, 0], "rating": [1.0] * 4, "timestamp": range(4)}
    )
    log = InteractionLog.from_frame(frame, feedback="click", name="clicks.csv", timed=False)
    for cut in (otsu_gap, split_sessions, lambda log: split_sessions(log, gap_seconds=0.5)):
        with pytest.raises(
            LogError, match="clicks.csv: the log has no time column .*sessions cannot be seen"
        ):
            cut(log)
