"""Sessions in a timestamped log: where each user's visits start and end.

A simulated session ends when the user leaves; to learn when that happens, the logged history must be
cut into sessions first. A new session starts wherever the gap since the user's previous row exceeds a
threshold. Without one, the threshold is read from the data: gaps between rows are bimodal on a log
scale (seconds within a visit, hours or days between visits), and Otsu's method (Otsu, "A Threshold
Selection Method from Gray-Level Histograms", 1979) puts the cut where the two modes separate best.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recgym.data.interactions import InteractionLog, LogError, time_order

NO_SESSIONS = "sessions cannot be seen; load a log with timestamps to cut it into sessions"


@dataclass(frozen=True)
class LogSessions:
    """A log's rows with their session, and one row per session.

    `rows` has the log's columns plus `session` (a global id, in time order within each user),
    `position` (0 for the first row of a session) and `session_length`; it is sorted by user, time and
    original row order. `sessions` has `session`, `user`, `start`, `end`, `length` and `likes` (rows at
    or above the log's like threshold: clicks, or ratings of 4 of 5 and more).
    """

    rows: pd.DataFrame
    sessions: pd.DataFrame
    gap_seconds: float
    """The threshold used: a gap longer than this starts a new session."""

    def subset(self, session_ids: np.ndarray) -> LogSessions:
        """Only the given sessions, renumbered 0..len-1 in the given order."""
        new_id = np.full(len(self.sessions), -1, dtype=np.int64)
        new_id[session_ids] = np.arange(len(session_ids))
        rows = self.rows[new_id[self.rows["session"].to_numpy()] >= 0]
        rows = rows.assign(session=new_id[rows["session"].to_numpy()])
        sessions = self.sessions.iloc[session_ids].assign(session=np.arange(len(session_ids)))
        return LogSessions(rows.reset_index(drop=True), sessions.reset_index(drop=True), self.gap_seconds)


def otsu_gap(log: InteractionLog, bins: int = 100) -> float:
    """The gap threshold (seconds) that best separates short and long gaps between a user's rows.

    Works on log10(1 + gap) of every positive gap; returns infinity (one session per user) when the log
    has fewer than two distinct positive gaps, e.g. every timestamp the same. Raises `LogError` for an
    untimed log (`log.timed` False), whose gaps would be row counts, not seconds.
    """
    log.require_times(NO_SESSIONS)
    gaps = _gaps(log.frame.iloc[time_order(log.frame)])
    gaps = np.log10(1.0 + gaps[gaps > 0])
    if len(np.unique(gaps)) < 2:
        return float("inf")
    counts, edges = np.histogram(gaps, bins=bins)
    weights = counts / counts.sum()
    centres = (edges[:-1] + edges[1:]) / 2
    below = np.cumsum(weights)[:-1]  # share of gaps at or under each candidate cut
    mean_below = np.cumsum(weights * centres)[:-1]
    total_mean = (weights * centres).sum()
    between = (total_mean * below - mean_below) ** 2 / np.maximum(below * (1 - below), 1e-12)
    cut = edges[1:-1][np.argmax(between)]
    return float(10**cut - 1.0)


def split_sessions(log: InteractionLog, gap_seconds: float | None = None) -> LogSessions:
    """Cut each user's rows into sessions at gaps longer than `gap_seconds` (default: `otsu_gap`).

    Raises `LogError` for an untimed log (`log.timed` False): without times no visit can be told apart.
    """
    log.require_times(NO_SESSIONS)
    if gap_seconds is None:
        gap_seconds = otsu_gap(log)
    if not gap_seconds > 0:  # also rejects NaN
        raise LogError(f"{log.name}: the session gap must be a positive number of seconds, got {gap_seconds}")
    frame = log.frame.reset_index(drop=True)
    rows = frame.iloc[time_order(frame)].reset_index(drop=True)
    users = rows["user"].to_numpy()
    new_user = np.r_[True, users[1:] != users[:-1]]
    starts = new_user | (_gaps(rows, keep_first=True) > gap_seconds)
    session = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    length = np.diff(np.r_[first, len(rows)])
    rows = rows.assign(
        session=session,
        position=np.arange(len(rows)) - first[session],
        session_length=length[session],
    )
    liked = rows["rating"].to_numpy() >= log.like_threshold
    timestamps = rows["timestamp"].to_numpy()
    sessions = pd.DataFrame(
        {
            "session": np.arange(len(first)),
            "user": users[first],
            "start": timestamps[first],
            "end": timestamps[first + length - 1],
            "length": length,
            "likes": np.add.reduceat(liked.astype(np.int64), first) if len(first) else np.zeros(0, np.int64),
        }
    )
    return LogSessions(rows=rows, sessions=sessions, gap_seconds=float(gap_seconds))


def _gaps(rows: pd.DataFrame, keep_first: bool = False) -> np.ndarray:
    """Seconds since the same user's previous row, for rows sorted by user then time; a user's first
    row gets 0 when kept (`keep_first`), else is dropped."""
    users, timestamps = rows["user"].to_numpy(), rows["timestamp"].to_numpy().astype(np.float64)
    gaps = np.r_[0.0, np.diff(timestamps)]
    first = np.r_[True, users[1:] != users[:-1]]
    return np.where(first, 0.0, gaps) if keep_first else gaps[~first]
