"""Where a World's logs come from: the `LogSource` protocol, its registry, and the built-in sources (the
synthetic world, MovieLens files, any table; a plug-in simulator is `recgym.simulators.plugin`'s).

A source is a frozen dataclass that says everything needed to read its log again, so a config names
its data completely: `read()` gives the log, `label` names it in run folders. What else a source can
tell is optional, and each piece has one reader here, so no code asks which source it holds:

- `cache_key()`: the source is slow to make and wholly decided by this dict; the World cache keeps it.
- `logged_horizon`: the longest session its logging policy ran, which censors the learned leaving.
- `truth(reward, device)`: the simulator its logs were drawn from (what sim-to-real and fidelity score
  against).
- `item_genres(log)`: each item's genres (`recgym.data.ItemGenres`), which fidelity splits sessions by.

`register_source("name", MySource)` makes a source of the user's own module the choice `data:name`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast, runtime_checkable

from recgym.choices import Choices
from recgym.data.feature_files import movielens_features, read_feature_table
from recgym.data.features import KINDS, FeatureKind
from recgym.data.interactions import Feedback, InteractionLog, LogError
from recgym.data.item_genres import ItemGenres, load_movielens_genres
from recgym.data.loaders import load_movielens, load_table
from recgym.data.synthetic import LoggingConfig, generate_logs

if TYPE_CHECKING:
    from recgym.simulators.protocol import UserSimulator


@runtime_checkable
class LogSource(Protocol):
    """Anything a World's logs can be read from."""

    @property
    def label(self) -> str:
        """Short name for run folders ('synthetic', 'ml-100k')."""
        ...

    def read(self) -> InteractionLog:
        """The log, read again from scratch."""
        ...


SourceT = TypeVar("SourceT", bound=type)

SOURCES = Choices("data source")
"""Every registered source class by its command-line name (`data:movielens`)."""


def register_source(name: str, source_class: SourceT) -> SourceT:
    """Make source_class (a frozen dataclass with `label` and `read()`) the choice `data:<name>` of every
    command line; from the user's own module, `--import` that module on the command line."""
    if not callable(getattr(source_class, "read", None)) or not hasattr(source_class, "label"):
        raise TypeError(f"a data source needs `label` and `read()` (`LogSource`): {source_class!r}")
    SOURCES.register(name, source_class)
    return source_class


def read_logs(source: LogSource) -> InteractionLog:
    """The log `source` describes; TypeError naming what is missing when it is no `LogSource`."""
    if not isinstance(source, LogSource):
        raise TypeError(f"{source!r} is no data source: it needs `label` and `read()`")
    return source.read()


def cache_key(source: LogSource) -> dict[str, Any] | None:
    """What decides source's log when it is worth caching (None: read it each time)."""
    key = getattr(source, "cache_key", None)
    return None if key is None else key()


def logged_horizon(source: LogSource) -> int | None:
    """The longest session source's logging policy ran (None: unknown, sessions ended by themselves)."""
    return getattr(source, "logged_horizon", None)


def true_simulator(source: LogSource, reward: str = "click", device: str = "cpu") -> UserSimulator | None:
    """The simulator source's logs were drawn from (None: the truth is unknown, as for real data)."""
    truth = getattr(source, "truth", None)
    return None if truth is None else truth(reward, device)


def source_genres(source: LogSource, log: InteractionLog) -> ItemGenres | None:
    """The genres of log's items that source knows (None: none)."""
    genres = getattr(source, "item_genres", None)
    return None if genres is None else genres(log)


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

    @property
    def logged_horizon(self) -> int:
        return self.logging.horizon

    def read(self) -> InteractionLog:
        return generate_logs(self.logging)[0]

    def cache_key(self) -> dict[str, Any]:
        return {"logging": asdict(self.logging)}

    def truth(self, reward: str = "click", device: str = "cpu") -> UserSimulator:
        """The world, on the device its config names (device is the run's, for sources that take one)."""
        from recgym.simulators.world import GroundTruthWorld

        return GroundTruthWorld(self.logging.world, reward=reward)  # type: ignore[arg-type]

    def item_genres(self, log: InteractionLog) -> ItemGenres:
        """The world's topic of each item, as a genre."""
        return world_topics(self.logging, log)


@dataclass(frozen=True)
class MovieLensLogs:
    """MovieLens ratings: a folder or a file (u.data, ratings.dat, ratings.csv or a RecBole .inter)."""

    path: str
    """The file, or a folder holding one."""
    likes: bool = False
    """Fit on likes (a rating in the top quarter of the scale), lower ratings counting as items shown
    and not clicked, instead of treating every rating as an interaction."""
    features: bool = True
    """Read the user and item features the release keeps beside its ratings (u.user and u.item,
    users.dat and movies.dat, movies.csv and tags.csv, RecBole's .user and .item)."""

    @property
    def label(self) -> str:
        return file_label(self.path)

    def read(self) -> InteractionLog:
        log = load_movielens(self.path)
        if self.features:
            log = log.with_features(*movielens_features(self.path))
        return log.as_likes() if self.likes else log

    def item_genres(self, log: InteractionLog) -> ItemGenres:
        return load_movielens_genres(Path(self.path), log)


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
    user_features: str | None = None
    """CSV or parquet of user features, one row per user, keyed by a column named as `user`."""
    item_features: str | None = None
    """CSV or parquet of item features, one row per item, keyed by a column named as `item`."""
    feature_kinds: tuple[str, ...] = ()
    """`column:kind` for feature columns not to be inferred (kinds: token, token_seq, float,
    float_seq), e.g. `genres:token_seq`; bags in text cells are split on `bag_separator`."""
    bag_separator: str = "|"
    """What separates the entries of a token_seq or float_seq cell."""

    @property
    def label(self) -> str:
        return file_label(self.path)

    def read(self) -> InteractionLog:
        columns = {"user": self.user, "item": self.item}
        optional = (("rating", self.rating), ("timestamp", self.time))
        columns |= {ours: theirs for ours, theirs in optional if theirs}
        log = load_table(self.path, columns, feedback=self.feedback, sep=self.sep)
        kinds = feature_kinds(self.feature_kinds)
        tables = [
            None
            if path is None
            else read_feature_table(path, key, kinds, sep=self.sep, separator=self.bag_separator)
            for path, key in ((self.user_features, self.user), (self.item_features, self.item))
        ]
        log = log.with_features(*tables)
        return log.as_likes() if self.likes else log

    def item_genres(self, log: InteractionLog) -> ItemGenres:
        """MovieLens-style item files beside the table, if there are any."""
        return load_movielens_genres(Path(self.path), log)


register_source("synthetic", SyntheticLogs)
register_source("movielens", MovieLensLogs)
register_source("table", TableLogs)


def world_topics(logging: LoggingConfig, log: InteractionLog) -> ItemGenres:
    """The synthetic world's topic of each of log's items (its dense ids), as a genre."""
    import numpy as np

    topics = generate_logs(logging)[1].item_topics.cpu().numpy()
    names = [f"topic {k}" for k in range(int(topics.max()) + 1)]
    primary = topics[log.raw_items(np.arange(log.n_items)).astype(np.int64)]
    return ItemGenres(names=names, matrix=np.eye(len(names), dtype=bool)[primary], primary=primary)


def feature_kinds(pairs: tuple[str, ...]) -> dict[str, FeatureKind]:
    """`("genres:token_seq", ...)` as {column: kind}; `LogError` for a pair without a known kind."""
    kinds: dict[str, FeatureKind] = {}
    for pair in pairs:
        column, _, kind = pair.rpartition(":")
        if not column or kind not in KINDS:
            raise LogError(f"feature kind {pair!r} must be column:kind with kind one of {', '.join(KINDS)}")
        kinds[column] = cast(FeatureKind, kind)
    return kinds


def file_label(path: str) -> str:
    """What a run on the data at path is named after: a folder's name; a file's stem, or its folder's
    name for MovieLens files named by format, so two files of one folder get two names."""
    resolved = Path(path).resolve()
    if resolved.is_dir() or resolved.name in MOVIELENS_NAMES:
        return (resolved if resolved.is_dir() else resolved.parent).name
    return resolved.name.split(".")[0]
