"""Feature tables from the files datasets ship beside their ratings, and from any table.

MovieLens keeps them in a file per release: ML-100K `u.user` (age, gender, occupation, zip code) and
`u.item` (title, release date, genre flags), ML-1M `users.dat` and `movies.dat`, ml-latest
`movies.csv` (title, genres) with `tags.csv` (users' free-text tags), RecBole's atomic `.user` and
`.item` (typed headers, `age:token`). Coat gives one-hot user and item attributes. Titles become bags
of lower-case words with the year apart as a token, so a text model reads words, not whole titles.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from recgym.data.features import KINDS, FeatureKind, FeatureTable
from recgym.data.interactions import LogError
from recgym.data.item_genres import _read_fields, _read_named_fields, read_u_item_fields
from recgym.data.loaders import _INTEGER_TOKEN, PARQUET_SUFFIXES, _existing, _find_movielens_file

_YEAR = re.compile(r"\((\d{4})\)\s*$")
_WORD = re.compile(r"[a-z0-9']+")
MOVIE_KINDS: dict[str, FeatureKind] = {"title": "token_seq", "release_year": "token", "genres": "token_seq"}


def title_words(title: str) -> tuple[list[str], str]:
    """A title's lower-case words and its year ("" when it has none): "Toy Story (1995)" gives
    (["toy", "story"], "1995")."""
    year = _YEAR.search(title)
    text = title[: year.start()] if year else title
    return _WORD.findall(text.lower()), year.group(1) if year else ""


def movielens_features(path: str | Path) -> tuple[FeatureTable | None, FeatureTable | None]:
    """(user features, item features) from the files beside the MovieLens ratings at path (a folder
    or the ratings file), None for each the release does not have. A file that is there but malformed
    raises `LogError` naming it."""
    path = Path(path)
    ratings = _find_movielens_file(path) if path.is_dir() else path
    name, suffix = ratings.name.lower(), ratings.suffix.lower()
    if name == "u.data" or suffix in (".base", ".test"):
        users, items = ratings.with_name("u.user"), ratings.with_name("u.item")
        return _if_file(users, read_ml100k_users), _if_file(items, read_ml100k_items)
    if suffix == ".dat":
        users, items = ratings.with_name("users.dat"), ratings.with_name("movies.dat")
        return _if_file(users, read_ml1m_users), _if_file(items, read_ml1m_items)
    if suffix == ".csv":
        movies, tags = ratings.with_name("movies.csv"), ratings.with_name("tags.csv")
        return None, _if_file(movies, lambda file: read_movielens_latest_items(file, tags))
    users, items = ratings.with_suffix(".user"), ratings.with_suffix(".item")
    return _if_file(users, read_recbole_features), _if_file(items, read_recbole_features)


def read_recbole_features(path: str | Path) -> FeatureTable:
    """A RecBole atomic `.user` or `.item` file: tab-separated, header fields `name:kind`, bags
    space-separated; keyed by its `user_id` or `item_id` field."""
    path = _existing(path)
    with path.open(encoding="utf-8") as file:
        header = file.readline().rstrip("\r\n").lstrip("\ufeff").split("\t")
    fields = [field.partition(":") for field in header]
    unknown = [f"{name}:{kind}" for name, _, kind in fields if kind not in KINDS]
    if unknown:
        raise LogError(f"{path}: header fields {unknown} have no kind among {', '.join(KINDS)}")
    names = [name for name, _, _ in fields]
    key = next((name for name in ("user_id", "item_id") if name in names), None)
    if key is None:
        raise LogError(f"{path}: no user_id or item_id field in the header; found {names}")
    frame = _read_named_fields(path, sep="\t", encoding="utf-8", required=[key]).fillna("")
    kinds = {name: cast(FeatureKind, kind) for name, _, kind in fields if name != key}
    frame[key] = _ids(frame[key])
    return FeatureTable.from_frame(frame, key, kinds, separator=" ", name=path.name)


def read_ml100k_users(path: str | Path) -> FeatureTable:
    """ML-100K `u.user`: user id|age|gender|occupation|zip code."""
    path = _existing(path)
    frame = _read_fields(path, sep="|", encoding="latin-1", n_fields=5, required=[0, 1, 2, 3])
    frame.columns = ["user_id", "age", "gender", "occupation", "zip_code"]
    frame["user_id"] = _ids(frame["user_id"])
    kinds: dict[str, FeatureKind] = {
        "age": "float",
        "gender": "token",
        "occupation": "token",
        "zip_code": "token",
    }
    return FeatureTable.from_frame(frame, "user_id", kinds, name=path.name)


def read_ml100k_items(path: str | Path) -> FeatureTable:
    """ML-100K `u.item`: id|title|release date|video release date|IMDb URL|a 0/1 flag per genre (names
    from `u.genre` beside it)."""
    path = _existing(path)
    frame, genres, _ = read_u_item_fields(path)
    words = [title_words(str(title))[0] for title in frame[1].fillna("")]
    dates = frame[2].fillna("")
    table = pd.DataFrame(
        {
            "item_id": _ids(frame[0]),
            "title": words,
            "release_year": [date[-4:] if len(date) >= 4 else "" for date in dates],
            "genres": genres,
        }
    )
    return FeatureTable.from_frame(table, "item_id", MOVIE_KINDS, name=path.name)


def read_ml1m_users(path: str | Path) -> FeatureTable:
    """ML-1M `users.dat`: UserID::Gender::Age::Occupation::Zip-code (age and occupation are codes)."""
    path = _existing(path)
    frame = _read_fields(path, sep="::", encoding="latin-1", n_fields=5, required=[0, 1, 2, 3])
    frame.columns = ["user_id", "gender", "age", "occupation", "zip_code"]
    frame["user_id"] = _ids(frame["user_id"])
    kinds: dict[str, FeatureKind] = {name: "token" for name in ("gender", "age", "occupation", "zip_code")}
    return FeatureTable.from_frame(frame, "user_id", kinds, name=path.name)


def read_ml1m_items(path: str | Path) -> FeatureTable:
    """ML-1M `movies.dat`: MovieID::Title::Genres ("A|B")."""
    path = _existing(path)
    frame = _read_fields(path, sep="::", encoding="latin-1", n_fields=3, required=[0, 1, 2])
    return FeatureTable.from_frame(
        _movie_frame(frame[0], frame[1], frame[2]), "item_id", MOVIE_KINDS, name=path.name
    )


def read_movielens_latest_items(movies: str | Path, tags: str | Path | None = None) -> FeatureTable:
    """ml-latest `movies.csv` (movieId,title,genres) and, when given and present, `tags.csv`
    (userId,movieId,tag,timestamp): each movie's distinct lower-case tags as one more bag (empty for a
    movie nobody tagged). Genres "(no genres listed)" count as none."""
    movies = _existing(movies)
    frame = _read_named_fields(movies, sep=",", encoding="utf-8", required=["movieId", "title", "genres"])
    genres = frame["genres"].fillna("").replace("(no genres listed)", "")
    table = _movie_frame(frame["movieId"], frame["title"], genres)
    if tags is not None and Path(tags).is_file():
        tagged = _read_named_fields(Path(tags), sep=",", encoding="utf-8", required=["movieId", "tag"])
        bags = (
            tagged.dropna(subset=["tag"])
            .groupby("movieId")["tag"]
            .agg(lambda values: sorted({str(value).strip().lower() for value in values} - {""}))
        )
        ids = frame["movieId"].astype(str)
        unknown = sorted(set(bags.index.astype(str)) - set(ids))
        if unknown:
            raise LogError(
                f"{tags}: tags for {len(unknown)} movies {movies.name} does not list (first {unknown[0]})"
            )
        table["tags"] = [bags.get(movie, []) for movie in ids]
    kinds: dict[str, FeatureKind] = MOVIE_KINDS | ({"tags": "token_seq"} if "tags" in table else {})
    return FeatureTable.from_frame(table, "item_id", kinds, name=movies.name)


def read_coat_features(folder: str | Path) -> tuple[FeatureTable, FeatureTable]:
    """Coat's `user_item_features/`: `user_features.ascii` and `item_features.ascii`, one 0/1 row per
    user or item (in the order of the rating matrices), whose columns `*_features_map.txt` names as
    `field:value`; each field becomes a token column (none where a row has no 1 in it)."""
    folder = Path(folder)
    features = folder / "user_item_features" if (folder / "user_item_features").is_dir() else folder
    users, items = (
        _one_hot_table(
            features / f"{what}_features.ascii", features / f"{what}_features_map.txt", f"{what}_id"
        )
        for what in ("user", "item")
    )
    return users, items


def read_feature_table(
    path: str | Path,
    id_column: str,
    kinds: dict[str, FeatureKind] | None = None,
    *,
    sep: str = ",",
    separator: str = " ",
) -> FeatureTable:
    """Any CSV (or parquet, by suffix) of one row per id: `FeatureTable.from_frame` on it. In a CSV,
    ids and tokens are read as text (digit-only ids match a log's integer ids), other columns by
    pandas' rules; bags are split on `separator`."""
    path = _existing(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        frame = pd.read_parquet(path).reset_index(drop=True)
    else:
        text = [column for column, kind in (kinds or {}).items() if kind != "float"]
        try:
            frame = pd.read_csv(
                path,
                sep=sep,
                dtype=dict.fromkeys([id_column, *text], str),
                keep_default_na=False,
                na_values=[""],
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise LogError(
                f"{path}: cannot read as a table separated by {sep!r}: {str(error).strip()}"
            ) from error
    if id_column in frame.columns and frame[id_column].dtype == object:
        frame[id_column] = _ids(frame[id_column].fillna(""))
    return FeatureTable.from_frame(frame, id_column, kinds, separator=separator, name=path.name)


def _movie_frame(ids: pd.Series, titles: pd.Series, genres: pd.Series) -> pd.DataFrame:
    split = [title_words(str(title)) for title in titles.fillna("")]
    return pd.DataFrame(
        {
            "item_id": _ids(ids).to_numpy(),
            "title": [words for words, _ in split],
            "release_year": [year for _, year in split],
            "genres": [[genre for genre in str(text).split("|") if genre] for text in genres.fillna("")],
        }
    )


def _one_hot_table(matrix_path: Path, map_path: Path, id_column: str) -> FeatureTable:
    _existing(matrix_path)
    columns = [line.strip() for line in _existing(map_path).read_text().splitlines() if line.strip()]
    fields = [column.partition(":") for column in columns]
    if any(not sep for _, sep, _ in fields):
        raise LogError(f"{map_path}: every line must be field:value")
    try:
        matrix = np.loadtxt(matrix_path, dtype=np.int64, ndmin=2)
    except ValueError as error:
        raise LogError(f"{matrix_path}: not a matrix of 0/1 integers ({error})") from error
    if matrix.shape[1] != len(columns) or not np.isin(matrix, (0, 1)).all():
        raise LogError(
            f"{matrix_path}: expected {len(columns)} 0/1 columns ({map_path.name}), found {matrix.shape[1]} "
            "or values other than 0 and 1"
        )
    table: dict[str, list[str]] = {}
    for field in dict.fromkeys(field for field, _, _ in fields):
        positions = [j for j, (name, _, _) in enumerate(fields) if name == field]
        ones = matrix[:, positions]
        several = np.flatnonzero(ones.sum(axis=1) > 1)
        if len(several):
            raise LogError(f"{matrix_path}: line {several[0] + 1} has several values of {field!r}")
        table[field] = [fields[positions[int(row.argmax())]][2] if row.any() else "" for row in ones]
    frame = pd.DataFrame({id_column: np.arange(len(matrix)), **table})
    kinds: dict[str, FeatureKind] = {name: "token" for name in table}
    return FeatureTable.from_frame(frame, id_column, kinds, name=matrix_path.name)


def _ids(values: pd.Series) -> pd.Series:
    """Text ids as a ratings loader reads them: integers when every one is digits without leading
    zeros (so they match the log's integer ids), else the text itself."""
    text = values.astype(str).str.strip()
    if text.str.fullmatch(_INTEGER_TOKEN).all():
        return text.astype(np.int64)
    return text


def _if_file(path: Path, read: Callable[[Path], FeatureTable]) -> FeatureTable | None:
    return read(path) if path.is_file() else None
