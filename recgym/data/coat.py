"""The Coat shopping dataset (Schnabel et al., "Recommendations as Treatments: Debiasing Learning and
Evaluation", ICML 2016): 290 users, 300 coats, ratings 1-5.

`train.ascii` holds the ratings users gave to coats they chose themselves (missing not at random);
`test.ascii` holds 16 ratings per user on coats shown to them at random, so it measures what a user
thinks of an item they did not pick: the exposure a simulator's recommendations create. Both are
whitespace-separated users x items matrices with 0 for "not rated". The user and item features in
`user_item_features/`, when there, come with the train log (`recgym.data.feature_files`); the
propensities are not loaded.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recgym.data.feature_files import read_coat_features
from recgym.data.interactions import InteractionLog, LogError
from recgym.data.loaders import _existing, _read_text

COAT_FILES = ("train.ascii", "test.ascii")
RATING_RANGE = (1.0, 5.0)


@dataclass(frozen=True)
class CoatData:
    """Coat's self-selected ratings as a log and its random-exposure ratings as a frame.

    User i is row i and item j is column j of both matrices, in `train` and `test` alike; every
    user and item is kept, even one without a training rating.
    """

    train: InteractionLog
    """Self-selected ratings. Coat has no timestamps: every row has timestamp 0, and within a user the
    rows follow the file's column order (item index), which is what splits that need a time see."""
    test: pd.DataFrame
    """Ratings on randomly shown items: `user`, `item` (int64 indices as in `train`), `rating` (float64)."""


def load_coat(path: str | Path) -> CoatData:
    """Load Coat from the folder holding `train.ascii` and `test.ascii`.

    Raises `FileNotFoundError` for a missing folder or file (like every recgym loader) and `LogError`
    naming the file for one that is not a numeric matrix, matrices of different shapes, ratings that
    are not integers 0-5, and a train matrix without ratings.
    """
    folder = Path(path)
    train_path, test_path = (_existing(folder / name) for name in COAT_FILES)
    train, test = _read_matrix(train_path), _read_matrix(test_path)
    if train.shape != test.shape:
        raise LogError(
            f"{test_path}: {test.shape[0]} users x {test.shape[1]} items, but {train_path.name} has "
            f"{train.shape[0]} x {train.shape[1]}; both must cover the same users and items"
        )
    if not train.any():
        raise LogError(f"{train_path}: no ratings (every entry is 0)")
    log = _train_log(train)
    if (folder / "user_item_features").is_dir():
        log = log.with_features(*read_coat_features(folder))
    return CoatData(train=log, test=_rated_entries(test))


def _train_log(matrix: np.ndarray) -> InteractionLog:
    """The log is built directly rather than by `from_frame`, which would drop (and so renumber)
    users and items without a rating; the matrix was already validated by `_read_matrix`. Coat records
    no times: the log is untimed, so its user models hold out random positives, not the highest item
    ids of each user."""
    n_users, n_items = matrix.shape
    frame = _rated_entries(matrix).assign(timestamp=np.int64(0))  # row-major: by user, then item
    return InteractionLog(
        frame=frame,
        user_ids=np.arange(n_users),
        item_ids=np.arange(n_items),
        feedback="rating",
        rating_range=RATING_RANGE,
        name="coat",
        timed=False,
    )


def _rated_entries(matrix: np.ndarray) -> pd.DataFrame:
    """Non-zero entries of a users x items matrix as `user`, `item`, `rating` rows, by user then item."""
    users, items = np.nonzero(matrix)
    return pd.DataFrame(
        {
            "user": users.astype(np.int64),
            "item": items.astype(np.int64),
            "rating": matrix[users, items].astype(np.float64),
        }
    )


def _read_matrix(path: Path) -> np.ndarray:
    """A whitespace-separated matrix of integer ratings 0-5 (0 = not rated)."""
    text = _read_text(path)
    if not text.strip():
        raise LogError(f"{path}: the file is empty")
    try:
        matrix = np.loadtxt(io.StringIO(text), dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise LogError(f"{path}: not a whitespace-separated numeric matrix ({error})") from error
    bad = ~np.isin(matrix, np.arange(6))
    if bad.any():
        row, column = np.argwhere(bad)[0]
        raise LogError(
            f"{path}: {int(bad.sum())} entries are not integer ratings 0-5 "
            f"(first: {matrix[row, column]} at user {row}, item {column})"
        )
    return matrix
