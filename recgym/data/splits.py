"""Train/valid/test splits of an `InteractionLog`: per-user leave-last-out, per-user random leave-one-out
and a global temporal cut."""

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
    their rows in train and are counted in `kept_in_train`. An untimed log (`log.timed` False) is cut
    in file order: the user's last rows of the file are held out.
    """
    rows = np.flatnonzero(_positive_mask(log))
    return _hold_out_last(log, rows[time_order(log.frame.iloc[rows])], "leave-last-out")


def random_leave_one_out(log: InteractionLog, rng: np.random.Generator) -> Split:
    """Per user, a random positive goes to test and another to valid: leave-one-out that does not read
    the rows' order, for logs whose order is not time (an untimed log sorted by user then item would
    otherwise hold out each user's highest item ids).

    Positives, `kept_in_train` and users with fewer than 3 positives as in `leave_last_out`; which
    positives are held out follows `rng` alone (one draw per positive row).
    """
    rows = np.flatnonzero(_positive_mask(log))
    keys = rng.random(len(rows))
    return _hold_out_last(log, rows[np.lexsort((keys, log.frame["user"].to_numpy()[rows]))], "random split")


def random_positive_per_user(log: InteractionLog, rng: np.random.Generator) -> InteractionLog:
    """One random positive row of every user who has one (the rows stay in `log`): a validation set for
    early stopping when no row may be held out of training."""
    positives = log.positives()
    keys = rng.random(len(positives))
    order = np.lexsort((keys, positives["user"].to_numpy()))
    chosen = positives.iloc[order].drop_duplicates("user", keep="first")
    return log.with_frame(chosen.sort_index())


def _hold_out_last(log: InteractionLog, rows: np.ndarray, method: str) -> Split:
    """Test gets each user's last row of `rows` and valid the one before, for users with 3 or more.

    :param rows: positions of the log's positives, grouped by user (ascending), each group in the order
        that decides which rows are held out.
    """
    frame = log.frame
    user = frame["user"].to_numpy()
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
        raise LogError(f"{log.name}: no user has the 3 positives a {method} needs")
    return _split(log, part, kept_in_train=kept)


def temporal_split(log: InteractionLog, valid_fraction: float = 0.1, test_fraction: float = 0.1) -> Split:
    """Global time cuts at timestamp quantiles: the past trains, the future is held out.

    Rows before the first cut go to train, rows from the first to the second cut to valid, the rest to
    test. Raises `LogError` if a part would be empty (e.g. too few distinct timestamps) or if the log is
    untimed (its row order says nothing about which rows are the future).
    """
    log.require_times(
        "a temporal split cannot be made; use leave_last_out (which reads the file's order as time) "
        "or random_leave_one_out"
    )
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
