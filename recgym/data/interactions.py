"""The one typed interaction-log object every part of recgym reads.

Raw logs arrive with arbitrary user/item ids; models need contiguous indices. `InteractionLog` keeps
both: the frame holds contiguous `user`/`item` indices and `user_ids`/`item_ids` map them back to the
raw ids, so any result can be reported in the data's own terms.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # features.py raises this module's LogError
    from recgym.data.features import FeatureTable

Feedback = Literal["click", "rating"]
COLUMNS = ("user", "item", "rating", "timestamp")
INT64_END = 2**63  # ids and timestamps must lie in [-INT64_END, INT64_END)


class LogError(ValueError):
    """A log that cannot be used as it is; the message names the problem."""


@dataclass(frozen=True)
class CleaningReport:
    """What validation removed from a log and why, so nothing is dropped silently."""

    duplicate_rows: int = 0

    def summary(self) -> str:
        return (
            f"dropped {self.duplicate_rows} exact duplicate rows"
            if self.duplicate_rows
            else "nothing dropped"
        )


@dataclass(frozen=True)
class InteractionLog:
    """Interactions sorted by (user, timestamp), with contiguous ids and the maps back to raw ids.

    `frame` columns: `user`, `item` (int64 contiguous indices), `rating` (float64: 0/1 for click logs,
    the star value for rating logs) and `timestamp` (int64, seconds). Click logs may hold impressions
    that were not clicked (rating 0): those are explicit negatives.

    An untimed log (`timed` False: its source had no time column) holds each row's position in the file
    as `timestamp`, so a user's rows keep the file's order, which sequence models read as their order;
    whatever needs real times (sessions, temporal splits) refuses it (`require_times`).
    """

    frame: pd.DataFrame
    user_ids: np.ndarray
    item_ids: np.ndarray
    feedback: Feedback = "rating"
    rating_range: tuple[float, float] = (0.5, 5.0)
    name: str = "log"
    report: CleaningReport = field(default_factory=CleaningReport)
    timed: bool = True
    """True when `timestamp` holds real times; False when it is the row order of a file without them."""
    user_features: FeatureTable | None = None
    """Side information of users, keyed by raw ids (it may hold users the log never saw); `with_features`."""
    item_features: FeatureTable | None = None
    """Side information of items, keyed by raw ids (it may hold items the log never saw)."""

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def like_threshold(self) -> float:
        """Feedback at or above this counts as a like (a click, or 4 of 5 stars)."""
        if self.feedback == "click":
            return 1.0
        low, high = self.rating_range
        return low + 0.75 * (high - low)

    @property
    def has_explicit_negatives(self) -> bool:
        """True when the log records items shown but not clicked."""
        return self.feedback == "click" and bool((self.frame["rating"] < 1.0).any())

    def positives(self) -> pd.DataFrame:
        """Rows that count as interactions for implicit-feedback training.

        Click logs: clicked rows only. Rating logs: every rated row (He et al. 2017 treat any rating
        as an interaction).
        """
        if self.feedback == "click":
            return self.frame[self.frame["rating"] >= 1.0]
        return self.frame

    def with_frame(self, frame: pd.DataFrame) -> InteractionLog:
        """A log over the same id maps holding another subset of rows (used by splits)."""
        return InteractionLog(
            frame=frame.reset_index(drop=True),
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            feedback=self.feedback,
            rating_range=self.rating_range,
            name=self.name,
            report=self.report,
            timed=self.timed,
            user_features=self.user_features,
            item_features=self.item_features,
        )

    def with_features(
        self, users: FeatureTable | None = None, items: FeatureTable | None = None
    ) -> InteractionLog:
        """The log with user and item feature tables attached (None keeps what it has). `LogError`
        when a table shares no id with the log, since it must be keyed by the log's ids."""
        for table, ids, what in ((users, self.user_ids, "users"), (items, self.item_ids, "items")):
            if table is not None:
                table.aligned(ids, what)
        return replace(
            self,
            user_features=self.user_features if users is None else users,
            item_features=self.item_features if items is None else items,
        )

    def user_feature_rows(self) -> FeatureTable | None:
        """User features in the order of the log's user indices (rows of unlisted users marked missing)."""
        return None if self.user_features is None else self.user_features.aligned(self.user_ids, "users")

    def item_feature_rows(self) -> FeatureTable | None:
        """Item features in the order of the log's item indices (rows of unlisted items marked missing)."""
        return None if self.item_features is None else self.item_features.aligned(self.item_ids, "items")

    def require_times(self, purpose: str) -> None:
        """Raise `LogError` saying that `purpose` needs real times when the log has none.

        :param purpose: what cannot be done and what to do instead, e.g. "sessions cannot be seen; ...".
        """
        if not self.timed:
            raise LogError(
                f"{self.name}: the log has no time column (its rows are in file order), so {purpose}"
            )

    def as_likes(self) -> InteractionLog:
        """The log as a click log of likes: a rating >= `like_threshold` is a click, a lower rating an
        item shown and not clicked, so models learn what users like rather than what they chose to
        rate (on Coat's random-exposure test this lifts AUC from about 0.5 to 0.70, docs/BENCHMARKS.md).

        Every row, user and item keeps its index; a click log is returned unchanged.
        """
        if self.feedback == "click":
            return self
        liked = (self.frame["rating"] >= self.like_threshold).astype(np.float64)
        return replace(
            self.with_frame(self.frame.assign(rating=liked)),
            feedback="click",
            rating_range=(0.0, 1.0),
            name=f"{self.name}-likes",
        )

    def raw_items(self, items: np.ndarray) -> np.ndarray:
        """Raw item ids of contiguous item indices."""
        return self.item_ids[np.asarray(items)]

    def raw_users(self, users: np.ndarray) -> np.ndarray:
        """Raw user ids of contiguous user indices."""
        return self.user_ids[np.asarray(users)]

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        feedback: Feedback = "rating",
        rating_range: tuple[float, float] | None = None,
        drop_duplicates: bool = False,
        name: str = "log",
        timed: bool = True,
    ) -> InteractionLog:
        """Validate a raw frame with columns user, item, rating, timestamp and index its ids.

        Raises `LogError` naming the problem for: missing or repeated columns, an empty log, NaN values,
        negative, non-integer, boolean or beyond-int64 ids and timestamps, ids and timestamps of 2**53
        or more in a float column (which cannot tell them apart), non-finite or complex ratings,
        ratings outside `rating_range` (or not 0/1 for click logs), and exact duplicate rows unless
        `drop_duplicates`, in which case they are dropped with a warning and counted in `report`.
        Datetime timestamps are converted to integer seconds. `timed=False` says the timestamps are only
        the row order of a source without times (see the class docstring).
        """
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
        if feedback not in ("click", "rating"):
            raise ValueError(f"feedback must be 'click' or 'rating', got {feedback!r}")
        if rating_range is not None and not _is_range(rating_range):
            raise ValueError(
                f"rating_range must be (low, high) with finite low <= high; got {rating_range!r}"
            )
        missing = [c for c in COLUMNS if c not in frame.columns]
        if missing:
            raise LogError(f"{name}: missing columns {missing}; found {list(frame.columns)}")
        repeated = [c for c in COLUMNS if not isinstance(frame.columns.get_loc(c), int)]
        if repeated:  # pandas would hand back a frame where a column is expected
            raise LogError(f"{name}: columns {repeated} appear more than once; found {list(frame.columns)}")
        frame = frame.loc[:, list(COLUMNS)]
        if len(frame) == 0:
            raise LogError(f"{name}: the log is empty")
        for column in COLUMNS:
            n_nan = int(frame[column].isna().sum())
            if n_nan:
                first = int(np.flatnonzero(frame[column].isna().to_numpy())[0])
                raise LogError(f"{name}: column '{column}' has {n_nan} NaN values (first at row {first})")
        if pd.api.types.is_datetime64_any_dtype(frame["timestamp"]):
            frame = frame.assign(timestamp=_datetime_seconds(frame["timestamp"]))
        for column in ("user", "item", "timestamp"):
            frame = frame.assign(**{column: _int64_column(frame[column], f"{name}: column '{column}'")})
        for column in ("user", "item"):
            n_negative = int((frame[column] < 0).sum())
            if n_negative:
                raise LogError(f"{name}: column '{column}' has {n_negative} negative ids")
        rating = pd.to_numeric(frame["rating"], errors="coerce")
        if pd.api.types.is_complex_dtype(rating) or not np.isfinite(rating.to_numpy(dtype=float)).all():
            raise LogError(f"{name}: column 'rating' must hold finite numbers")
        frame = frame.assign(rating=rating.astype(np.float64))
        if feedback == "click":
            rating_range = (0.0, 1.0)
            bad = ~frame["rating"].isin([0.0, 1.0])
            if bad.any():
                raise LogError(f"{name}: click logs need rating 0 or 1; {int(bad.sum())} rows differ")
        else:
            if rating_range is None:
                rating_range = (float(frame["rating"].min()), float(frame["rating"].max()))
            low, high = rating_range
            bad = (frame["rating"] < low) | (frame["rating"] > high)
            if bad.any():
                raise LogError(
                    f"{name}: {int(bad.sum())} ratings outside the range [{low}, {high}] "
                    f"(min {frame['rating'].min()}, max {frame['rating'].max()})"
                )
        duplicated = frame.duplicated(subset=["user", "item", "timestamp"], keep="first")
        n_duplicates = int(duplicated.sum())
        if n_duplicates and not drop_duplicates:
            raise LogError(
                f"{name}: {n_duplicates} duplicate (user, item, timestamp) rows; "
                "pass drop_duplicates=True to keep the first of each"
            )
        if n_duplicates:
            warnings.warn(f"{name}: dropped {n_duplicates} duplicate rows", stacklevel=2)
            frame = frame[~duplicated]
        user_codes, user_ids = pd.factorize(frame["user"], sort=True)
        item_codes, item_ids = pd.factorize(frame["item"], sort=True)
        indexed = pd.DataFrame(
            {
                "user": user_codes.astype(np.int64),
                "item": item_codes.astype(np.int64),
                "rating": frame["rating"].to_numpy(),
                "timestamp": frame["timestamp"].to_numpy(),
            }
        )
        indexed = indexed.sort_values(["user", "timestamp"], kind="stable").reset_index(drop=True)
        return cls(
            frame=indexed,
            user_ids=np.asarray(user_ids),
            item_ids=np.asarray(item_ids),
            feedback=feedback,
            rating_range=(float(rating_range[0]), float(rating_range[1])),
            name=name,
            report=CleaningReport(duplicate_rows=n_duplicates),
            timed=timed,
        )


def time_order(frame: pd.DataFrame) -> np.ndarray:
    """Positions of frame's rows sorted by user, then time, then original row order (so a later row
    of the same second counts as later): the order every split, sequence and session uses."""
    return np.lexsort((np.arange(len(frame)), frame["timestamp"].to_numpy(), frame["user"].to_numpy()))


def _is_range(bounds: tuple[float, float]) -> bool:
    try:
        low, high = (float(bound) for bound in bounds)
    except (TypeError, ValueError):
        return False
    return math.isfinite(low) and math.isfinite(high) and low <= high


def _int64_column(values: pd.Series, label: str) -> pd.Series:
    """values as int64; LogError naming `label` unless every value is an integer within int64.

    Booleans are refused (True is no id), and so are values beyond int64, which a cast would wrap. A
    float column is refused from 2**53 on (2**24 for float32): there neighbouring integers share one
    float, so 2**53 + 1 arrives as 2**53 and two users would silently become one.
    """
    numbers = pd.to_numeric(values, errors="coerce")
    booleans = values.dtype == object and values.map(lambda v: isinstance(v, bool | np.bool_)).any()
    integer, real = pd.api.types.is_integer_dtype(numbers), pd.api.types.is_float_dtype(numbers)
    if booleans or not (integer or real):
        raise LogError(f"{label} must hold integers")
    if real:
        as_float = numbers.to_numpy(dtype=float)
        if not (np.isfinite(as_float).all() and (np.mod(as_float, 1) == 0).all()):
            raise LogError(f"{label} must hold integers")
        beyond = (as_float < -INT64_END) | (as_float >= INT64_END)
        digits = np.finfo(getattr(numbers.dtype, "numpy_dtype", numbers.dtype)).nmant + 1
        inexact = ~beyond & (np.abs(as_float) >= 2.0**digits)
        if inexact.any():
            raise LogError(
                f"{label} has {int(inexact.sum())} values of magnitude 2**{digits} or more in a float "
                f"column, which cannot hold such integers exactly (2**{digits} + 1 reads as 2**{digits}); "
                "pass the column as integers (int64)"
            )
    elif pd.api.types.is_unsigned_integer_dtype(numbers):  # exact: a float cannot tell 2**63 - 1 from 2**63
        beyond = numbers.to_numpy(dtype=np.uint64) >= np.uint64(INT64_END)
    else:
        beyond = np.zeros(len(numbers), dtype=bool)
    if beyond.any():
        raise LogError(f"{label} has {int(beyond.sum())} values outside the int64 range")
    return numbers.astype(np.int64)


def _datetime_seconds(values: pd.Series) -> pd.Series:
    """Datetimes (naive ones read as UTC) as integer seconds, whatever their unit or time zone."""
    utc = pd.to_datetime(values, utc=True)
    return (utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
