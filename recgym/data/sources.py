"""Where a World's logs come from, as typed choices: the synthetic world, MovieLens files, any table.

Each source is a frozen dataclass that says everything needed to read its log again, so a config
names its data completely (a plug-in simulator, the fourth source, lives in
`recgym.simulators.plugin`). `read_logs(source)` reads the log; `source.label` names it in run folders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from recgym.data.interactions import Feedback, InteractionLog
from recgym.data.loaders import load_movielens, load_table
from recgym.data.synthetic import LoggingConfig, generate_logs

MOVIELENS_NAMES = ("u.data", "ratings.dat", "ratings.csv")
"""Files named by their format, not their content: a run is named after their folder instead."""


@dataclass(frozen=True)
class SyntheticLogs:
    """The built-in synthetic world (its users' true behaviour is known), observed under a
    popularity-biased logging policy: 500 users, 200 items, about 117,000 logged impressions."""

    logging: LoggingConfig = field(default_factory=LoggingConfig)
    """The world and how its logs are collected."""

    @property
    def label(self) -> str:
        return "synthetic"


@dataclass(frozen=True)
class MovieLensLogs:
    """MovieLens ratings: a folder or a file (u.data, ratings.dat, ratings.csv or a RecBole .inter)."""

    path: str
    """The file, or a folder holding one."""
    likes: bool = False
    """Fit on likes (a rating in the top quarter of the scale), lower ratings counting as items shown
    and not clicked, instead of treating every rating as an interaction."""

    @property
    def label(self) -> str:
        return file_label(self.path)


@dataclass(frozen=True)
class TableLogs:
    """Any interaction table, CSV or parquet (by suffix), given the names of its columns."""

    path: str
    """The CSV or parquet file."""
    user: str = "user_id"
    """Column of user ids (integers or any text)."""
    item: str = "item_id"
    """Column of item ids (integers or any text)."""
    rating: str | None = None
    """Column of ratings or clicks (0/1); none: every row is a click."""
    time: str | None = None
    """Column of times (integers, e.g. Unix seconds, or ISO-8601 dates); none: the log is untimed, its
    rows are split at random and its dynamics cannot be learned."""
    feedback: Feedback = "rating"
    """What the rating column holds: "rating" (a scale) or "click" (0/1, impressions kept as 0)."""
    sep: str = ","
    """Field separator of a CSV file."""
    likes: bool = False
    """Fit on likes (top quarter of the rating scale), lower ratings counting as non-clicks."""

    @property
    def label(self) -> str:
        return file_label(self.path)


LogSource = SyntheticLogs | MovieLensLogs | TableLogs
"""A log read from data (a plug-in simulator's logs are collected from it instead)."""


def read_logs(source: LogSource) -> InteractionLog:
    """The log `source` describes (likes applied when it asks for them)."""
    if isinstance(source, SyntheticLogs):
        return generate_logs(source.logging)[0]
    if isinstance(source, MovieLensLogs):
        log = load_movielens(source.path)
    else:
        columns = {"user": source.user, "item": source.item}
        columns |= {
            ours: theirs for ours, theirs in (("rating", source.rating), ("timestamp", source.time)) if theirs
        }
        log = load_table(source.path, columns, feedback=source.feedback, sep=source.sep)
    return log.as_likes() if source.likes else log


def file_label(path: str) -> str:
    """What a run on the data at path is named after: a folder's name; a file's stem, or its folder's
    name for MovieLens files named by format, so two files of one folder get two names."""
    resolved = Path(path).resolve()
    if resolved.is_dir() or resolved.name in MOVIELENS_NAMES:
        return (resolved if resolved.is_dir() else resolved.parent).name
    return resolved.name.split(".")[0]
