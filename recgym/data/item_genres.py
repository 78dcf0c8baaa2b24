"""Movie genres of a MovieLens log's items, one row per item index of the log.

Genres give items a coarse, readable category, which is what diversity and filter-bubble measures
need. Each MovieLens release keeps them in its own file beside the ratings: ML-100K `u.item` (19 0/1
flags, names in `u.genre`), ML-1M `movies.dat` and ml-latest `movies.csv` ("A|B" lists), RecBole's
`<name>.item` (a space-separated `class` or `genre` field). `load_movielens_genres` reads the one
that belongs to the ratings file `load_movielens` read.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from recgym.data.interactions import InteractionLog, LogError
from recgym.data.loaders import _check_fields, _find_movielens_file

ML100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)
"""Flag columns 6-24 of ML-100K `u.item`, used when `u.genre` is absent."""
NO_GENRE = frozenset({"unknown", "(no genres listed)"})
"""Placeholders MovieLens writes for a movie without genres; they are not genres."""
RECBOLE_GENRE_FIELDS = ("class", "genre")


@dataclass(frozen=True)
class ItemGenres:
    """Genres of a log's items: row i of `matrix` and entry i of `primary` describe item index i."""

    names: list[str]
    """Genre names as MovieLens spells them; column j of `matrix` is `names[j]`."""
    matrix: np.ndarray
    """[n_items, n_genres] bool, True where the item has the genre; all False for an item the genre
    file does not list or lists without genres."""
    primary: np.ndarray
    """[n_items] int64, the column of the item's first listed genre, -1 for an item without one.
    Stored because the files' order is not the columns' (ml-latest lists IMAX last), so the first
    True column of `matrix` is not always the first listed genre."""


def load_movielens_genres(path: str | Path, log: InteractionLog) -> ItemGenres:
    """Genres of `log`'s items from the genre file beside the ratings file at `path`.

    :param path: the folder or ratings file that was given to `load_movielens`.
    :param log: the log loaded from it; its raw item ids are matched to the genre file's ids.

    Raises `LogError` naming the file when no genre file is found or it is malformed (wrong field
    count, flags other than 0/1, an item id listed twice).
    """
    path = Path(path)
    ratings = _find_movielens_file(path) if path.is_dir() else path
    genre_path = _genre_file(ratings)
    if not genre_path.is_file():
        raise LogError(f"{genre_path}: no such genre file beside {ratings.name}")
    if genre_path.name == "u.item":
        ids, lists, names = _read_u_item(genre_path)
    elif genre_path.name == "movies.dat":
        frame = _read_fields(genre_path, sep="::", encoding="latin-1", n_fields=3, required=[0, 2])
        ids, lists, names = _split_lists(frame[0], frame[2], sep="|")
    elif genre_path.name == "movies.csv":
        frame = _read_named_fields(genre_path, sep=",", encoding="utf-8", required=["movieId", "genres"])
        ids, lists, names = _split_lists(frame["movieId"], frame["genres"], sep="|")
    else:
        frame = _read_named_fields(genre_path, sep="\t", encoding="utf-8", required=["item_id"])
        field = next((name for name in RECBOLE_GENRE_FIELDS if name in frame.columns), None)
        if field is None:
            raise LogError(
                f"{genre_path}: no genre field {RECBOLE_GENRE_FIELDS}; found {list(frame.columns)}"
            )
        ids, lists, names = _split_lists(frame["item_id"], frame[field].fillna(""), sep=" ")
    return _align(genre_path, ids, lists, names, log)


def _genre_file(ratings: Path) -> Path:
    """The genre file beside `ratings`, chosen by the same name and suffix rules as `load_movielens`."""
    name, suffix = ratings.name.lower(), ratings.suffix.lower()
    if name == "u.data" or suffix in (".base", ".test"):
        return ratings.with_name("u.item")
    if suffix in (".dat", ".csv"):
        return ratings.with_name(f"movies{suffix}")
    if suffix == ".inter":
        return ratings.with_suffix(".item")
    raise LogError(f"{ratings}: not a MovieLens ratings file, so no genre file is known for it")


def _read_u_item(path: Path) -> tuple[list[str], list[list[str]], list[str]]:
    """ML-100K `u.item`'s ids, each item's genres and the genre names."""
    frame, lists, names = read_u_item_fields(path)
    return frame[0].tolist(), lists, names


def read_u_item_fields(path: Path) -> tuple[pd.DataFrame, list[list[str]], list[str]]:
    """ML-100K `u.item` (id|title|release date|video release date|IMDb URL|one 0/1 flag per genre) as
    its fields (text, numbered from 0), each item's genres, and the genre names from `u.genre`."""
    names = _read_u_genre(path.with_name("u.genre"))
    n_fields = 5 + len(names)
    frame = _read_fields(
        path, sep="|", encoding="latin-1", n_fields=n_fields, required=[0, *range(5, n_fields)]
    )
    flags = frame.iloc[:, 5:]
    if not flags.isin(["0", "1"]).to_numpy().all():
        raise LogError(f"{path}: genre flags (fields 6-{n_fields}) must be 0 or 1")
    lists = [[names[j] for j in np.flatnonzero(row)] for row in flags.to_numpy() == "1"]
    return frame, lists, names


def _read_u_genre(path: Path) -> list[str]:
    """Genre names in flag order from `u.genre` ("name|index" lines), or ML-100K's 19 if it is absent."""
    if not path.is_file():
        return list(ML100K_GENRES)
    lines = [line for line in path.read_text(encoding="latin-1").splitlines() if line.strip()]
    pairs = [line.rsplit("|", 1) for line in lines]
    if not pairs or [pair[-1].strip() for pair in pairs] != [str(i) for i in range(len(pairs))]:
        raise LogError(f"{path}: expected 'name|index' lines with indices 0, 1, 2, ... in order")
    return [pair[0] for pair in pairs]


def _split_lists(
    ids: pd.Series, genres: pd.Series, *, sep: str
) -> tuple[list[str], list[list[str]], list[str]]:
    """Per-row genre lists in the file's order, and all genre names sorted (the files fix no order)."""
    lists = [[name for name in text.split(sep) if name] for text in genres]
    return ids.tolist(), lists, sorted({name for names in lists for name in names})


def _read_named_fields(path: Path, *, sep: str, encoding: str, required: list[str]) -> pd.DataFrame:
    """A file whose first line names its fields (cut at ':', as RecBole writes `name:type`); the
    columns are named after them and every data line must have as many fields."""
    with path.open(encoding=encoding, errors="replace") as file:
        header = file.readline().rstrip("\r\n").lstrip("\ufeff")
    names = [name.strip().split(":")[0] for name in header.split(sep)]
    missing = [name for name in required if name not in names]
    if missing:
        raise LogError(f"{path}: no column(s) {missing} in the header; found {names}")
    required_positions = [names.index(name) for name in required]
    frame = _read_fields(
        path, sep=sep, encoding=encoding, n_fields=len(names), required=required_positions, header=True
    )
    frame.columns = names
    return frame


def _read_fields(
    path: Path, *, sep: str, encoding: str, n_fields: int, required: list[int], header: bool = False
) -> pd.DataFrame:
    """Every field as a string, columns numbered from 0. Each line must have `n_fields` fields, since
    pandas would shift columns silently, and the `required` ones must be non-empty."""
    try:
        text = path.read_text(encoding=encoding)
    except UnicodeDecodeError as error:
        raise LogError(f"{path}: not {encoding} text ({error})") from error
    if sep == "::":  # a one-character separator keeps pandas' fast C parser
        text = text.replace("::", "\x1f")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep="\x1f" if sep == "::" else sep,
            header=None,
            skiprows=int(header),
            dtype=str,
            quoting=csv.QUOTE_MINIMAL if sep == "," else csv.QUOTE_NONE,  # only CSV titles are quoted
        )
    except pd.errors.EmptyDataError as error:
        raise LogError(f"{path}: no data rows") from error
    except pd.errors.ParserError as error:
        raise LogError(f"{path}: cannot parse with separator {sep!r}: {str(error).strip()}") from error
    _check_fields(frame, path, n_fields=n_fields, sep=sep, required=required, header=header)
    return frame


def _align(
    path: Path, ids: list[str], lists: list[list[str]], names: list[str], log: InteractionLog
) -> ItemGenres:
    """Rows of the genre file placed at the log's item indices; ids are compared as text, so integer
    ids and RecBole's string tokens both match."""
    names = [name for name in names if name not in NO_GENRE]
    column = {name: j for j, name in enumerate(names)}
    index = pd.Index(ids)
    if index.has_duplicates:
        raise LogError(f"{path}: item id {index[index.duplicated()][0]} is listed more than once")
    rows = index.get_indexer(log.raw_items(np.arange(log.n_items)).astype(str))
    matrix = np.zeros((log.n_items, len(names)), dtype=bool)
    primary = np.full(log.n_items, -1, dtype=np.int64)
    for item in np.flatnonzero(rows >= 0):
        columns = [column[name] for name in lists[rows[item]] if name in column]
        matrix[item, columns] = True
        if columns:
            primary[item] = columns[0]
    return ItemGenres(names=names, matrix=matrix, primary=primary)
