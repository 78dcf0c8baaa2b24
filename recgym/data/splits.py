"""Train/valid/test splits of an `InteractionLog`: per-user leave-last-out and a global temporal cut."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from recgym.data.interactions import InteractionLog, LogError, time_order

TRAIN, VALID, TEST = 0, 1, 2


@dataclass(frozen=True)
class Split:
    """Three logs over the same id maps.

    `kept_in_train` counts the users with too few positives to hold any out; they stay whole in train
    and are counted, so nothing is dropped silently.
    """

    train: InteractionLog
    valid: InteractionLog
    test: InteractionLog
    kept_in_train: int


def leave_last_out(log: InteractionLog) -> Split:
    """Per user, the latest positive goes to test and the second latest to valid (He et al. 2017).

    Positives follow `log.positives()`: every row of a rating log, clicked rows of a click log; the
    user's other rows, impressions that were not clicked included, stay in train. Ties in time are
    broken by row order (the later row counts as later). Users with fewer than 3 positives keep all
    their rows in train and are counted in `kept_in_train`.
    """
    frame = log.frame
    user = frame["user"].to_numpy()
    rows = np.flatnonzero(_positive_mask(log))
    rows = rows[time_order(frame.iloc[rows])]
    n_positives = np.bincount(user[rows], minlength=log.n_users)
    group_end = np.cumsum(n_positives)[user[rows]]  # one past each row's last position in its user group
    from_end = group_end - 1 - np.arange(len(rows))  # 0 for the user's latest positive
    held_out = n_positives[user[rows]] >= 3
    part = np.full(len(frame), TRAIN, dtype=np.int8)
    part[rows[held_out & (from_end == 1)]] = VALID
    part[rows[held_out & (from_end == 0)]] = TEST
    present = np.bincount(user, minlength=log.n_users) > 0
    kept = int((present & (n_positives < 3)).sum())
    if not (part == TEST).any():
        raise LogError(f"{log.name}: no user has the 3 positives leave-last-out needs")
    return _split(log, part, kept_in_train=kept)


def temporal_split(log: InteractionLog, valid_fraction: float = 0.1, test_fraction: float = 0.1) -> Split:
    """Global time cuts at timestamp quantiles: the past trains, the future is held out.

    Rows before the first cut go to train, rows from the first to the second cut to valid, the rest to
    test. Raises `LogError` if a part would be empty (e.g. too few distinct timestamps).
    """
    if not (valid_fraction > 0 and test_fraction > 0 and valid_fraction + test_fraction < 1):
        raise ValueError(
            f"need positive fractions summing below 1; got valid {valid_fraction}, test {test_fraction}"
        )
    timestamp = log.frame["timestamp"].to_numpy()
    valid_cut, test_cut = np.quantile(timestamp, [1 - valid_fraction - test_fraction, 1 - test_fraction])
    part = np.where(timestamp < valid_cut, TRAIN, np.where(timestamp < test_cut, VALID, TEST)).astype(np.int8)
    for index, name in enumerate(("train", "valid", "test")):
        if not (part == index).any():
            raise LogError(
                f"{log.name}: temporal split leaves {name} empty "
                f"(cuts at timestamps {valid_cut:g} and {test_cut:g}, {len(np.unique(timestamp))} distinct)"
            )
    return _split(log, part, kept_in_train=0)


def _positive_mask(log: InteractionLog) -> np.ndarray:
    """Row mask of `log.positives()`, kept as a mask so rows keep their positions."""
    return log.frame.index.isin(log.positives().index)


def _split(log: InteractionLog, part: np.ndarray, *, kept_in_train: int) -> Split:
    frame = log.frame
    return Split(
        train=log.with_frame(frame[part == TRAIN]),
        valid=log.with_frame(frame[part == VALID]),
        test=log.with_frame(frame[part == TEST]),
        kept_in_train=kept_in_train,
    )
