"""Loaders that turn rating files on disk into an `InteractionLog`.

Every loader raises `FileNotFoundError` for a missing file and `LogError` naming the file and the problem
for one it cannot parse (wrong separator, wrong number of fields), so a bad download fails loudly
instead of producing a log with shifted columns.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from recgym.data.interactions import COLUMNS, Feedback, InteractionLog, LogError

PARQUET_SUFFIXES = (".parquet", ".pq")
MOVIELENS_FILES = ("u.data", "ratings.dat", "ratings.csv")
_INTEGER_TOKEN = r"0|[1-9][0-9]{0,17}"  # digit strings that round-trip through int64


def load_ml100k_udata(path: str | Path) -> InteractionLog:
    """ML-100K `u.data` (also `u1.base` etc.): tab-separated `user item rating timestamp`, no header."""
    path = _existing(path)
    frame = _read_rows(path, path, sep="\t", skip_header=False)
    _check_fields(frame, path, n_fields=4, sep="\t", required=range(4))
    frame.columns = list(COLUMNS)
    return InteractionLog.from_frame(frame, rating_range=(1.0, 5.0), name=path.name)


def load_ml1m_ratings(path: str | Path) -> InteractionLog:
    """ML-1M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, no header.

    The two-character separator is rewritten to the ASCII unit separator so pandas' fast C parser
    reads the file (a multi-character separator needs the slow Python parser).
    """
    path = _existing(path)
    text = _read_text(path).replace("::", "\x1f")
    frame = _read_rows(io.StringIO(text), path, sep="\x1f", skip_header=False)
    _check_fields(frame, path, n_fields=4, sep="::", required=range(4))
    frame.columns = list(COLUMNS)
    return InteractionLog.from_frame(frame, rating_range=(1.0, 5.0), name=path.name)


def load_ratings_csv(path: str | Path) -> InteractionLog:
    """MovieLens latest `ratings.csv` (header `userId,movieId,rating,timestamp`), half stars 0.5-5.

    MovieLens ids are integers: other text in an id column is an error, not a token.
    """
    path = _existing(path)
    columns = {"user": "userId", "item": "movieId", "rating": "rating", "timestamp": "timestamp"}
    return _load_delimited(
        path, columns, sep=",", feedback="rating", rating_range=(0.5, 5.0), integer_ids=True
    )


def load_recbole_inter(path: str | Path, rating_range: tuple[float, float] | None = None) -> InteractionLog:
    """RecBole atomic `.inter` file: tab-separated, header fields `name:type` (e.g. `user_id:token`).

    Columns are matched by the name before ':'. Ids are tokens: digit-only tokens become integers,
    any other tokens are indexed and kept as strings in `user_ids`/`item_ids`. Without a `rating`
    field the log holds clicks; without a `timestamp` field the row order is the time.
    """
    path = _existing(path)
    names = [field.split(":")[0] for field in _read_header(path, "\t")]
    columns = {"user": "user_id", "item": "item_id"}
    columns |= {optional: optional for optional in ("rating", "timestamp") if optional in names}
    return _load_delimited(
        path, columns, sep="\t", feedback="rating", rating_range=rating_range, tokens=True, names=names
    )


def load_table(
    path: str | Path,
    columns: dict[str, str],
    *,
    feedback: Feedback = "rating",
    rating_range: tuple[float, float] | None = None,
    sep: str = ",",
) -> InteractionLog:
    """Any CSV (or parquet, by suffix) given a map from recgym's column names to the file's.

    :param columns: `{"user": ..., "item": ...}` plus optionally `"rating"` and `"timestamp"`. Without
        a rating every row is a click (rating 1.0, feedback "click"); without a timestamp the row
        order is the time.
    :param feedback: "rating" or "click" (ratings then must be 0/1); only used when rating is mapped.
    :param rating_range: the scale of the ratings; inferred from the data when None.
    :param sep: field separator of text files.
    """
    unknown = sorted(set(columns) - set(COLUMNS))
    if unknown or not {"user", "item"} <= set(columns):
        raise ValueError(
            f"columns must map 'user' and 'item' (and optionally 'rating', 'timestamp'); got {columns}"
        )
    path = _existing(path)
    if path.suffix.lower() in PARQUET_SUFFIXES:
        table = pd.read_parquet(path).reset_index(drop=True)
        _require_names(path, list(table.columns), columns)
        data = {ours: table[theirs] for ours, theirs in columns.items()}
        return _assemble(data, path, feedback=feedback, rating_range=rating_range)
    return _load_delimited(path, columns, sep=sep, feedback=feedback, rating_range=rating_range)


def load_movielens(path: str | Path) -> InteractionLog:
    """Load a MovieLens log from a file or from a directory holding one.

    A directory is searched for `u.data`, `ratings.dat`, `ratings.csv`, then exactly one `*.inter`.
    """
    path = Path(path)
    if path.is_dir():
        path = _find_movielens_file(path)
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    name, suffix = path.name.lower(), path.suffix.lower()
    if name == "u.data" or suffix in (".base", ".test"):
        return load_ml100k_udata(path)
    if suffix == ".dat":
        return load_ml1m_ratings(path)
    if suffix == ".csv":
        return load_ratings_csv(path)
    if suffix == ".inter":
        return load_recbole_inter(path)
    raise LogError(f"{path}: unknown MovieLens format; expected one of {MOVIELENS_FILES} or a *.inter file")


def _find_movielens_file(directory: Path) -> Path:
    for name in MOVIELENS_FILES:
        if (directory / name).is_file():
            return directory / name
    inter = sorted(directory.glob("*.inter"))
    if len(inter) > 1:
        raise ValueError(
            f"{directory}: several *.inter files {[p.name for p in inter]}; pass the one to load"
        )
    if not inter:
        raise FileNotFoundError(f"{directory}: found none of {', '.join(MOVIELENS_FILES)} or a *.inter file")
    return inter[0]


def _load_delimited(
    path: Path,
    columns: dict[str, str],
    *,
    sep: str,
    feedback: Feedback,
    rating_range: tuple[float, float] | None,
    tokens: bool = False,
    names: list[str] | None = None,
    integer_ids: bool = False,
) -> InteractionLog:
    """Read a text file with a header line and hand the mapped columns to `_assemble`.

    Pandas silently shifts or drops fields when a data line is longer than the header, so the header
    is read on its own and every data line must have exactly as many fields. `tokens` reads the ids as
    strings (RecBole tokens, where "007" and "7" differ); `names` overrides the header's field names;
    `integer_ids` refuses ids that are not integers instead of indexing them as tokens.
    """
    names = _read_header(path, sep) if names is None else names
    _require_names(path, names, columns)
    positions = {ours: names.index(theirs) for ours, theirs in columns.items()}
    dtype: dict[int, type] | None = {positions["user"]: str, positions["item"]: str} if tokens else None
    frame = _read_rows(path, path, sep=sep, skip_header=True, dtype=dtype)
    _check_fields(frame, path, n_fields=len(names), sep=sep, required=positions.values(), header=True)
    data = {ours: frame[position] for ours, position in positions.items()}
    return _assemble(data, path, feedback=feedback, rating_range=rating_range, integer_ids=integer_ids)


def _assemble(
    data: dict[str, pd.Series],
    path: Path,
    *,
    feedback: Feedback,
    rating_range: tuple[float, float] | None,
    integer_ids: bool = False,
) -> InteractionLog:
    """Fill the optional columns, index token ids (unless `integer_ids`: then `from_frame` refuses
    them), validate, and put the raw tokens back in the id maps."""
    n_rows = len(data["user"])
    encode = _keep_ids if integer_ids else _encode_ids
    users, user_tokens = encode(data["user"])
    items, item_tokens = encode(data["item"])
    if "rating" in data:
        rating = data["rating"].to_numpy()
    else:
        rating, feedback = np.ones(n_rows), "click"
    timestamp = data["timestamp"] if "timestamp" in data else np.arange(n_rows, dtype=np.int64)
    frame = pd.DataFrame({"user": users, "item": items, "rating": rating, "timestamp": timestamp})
    log = InteractionLog.from_frame(frame, feedback=feedback, rating_range=rating_range, name=path.name)
    return dataclasses.replace(
        log,
        user_ids=log.user_ids if user_tokens is None else user_tokens[log.user_ids],
        item_ids=log.item_ids if item_tokens is None else item_tokens[log.item_ids],
    )


def _encode_ids(values: pd.Series) -> tuple[np.ndarray, np.ndarray | None]:
    """Integer ids pass through; other tokens become sorted codes, returned with the tokens to restore.

    Digit-only tokens are read as integers only when that loses nothing (no leading zeros), so "007"
    and "7" stay distinct users.
    """
    if pd.api.types.is_numeric_dtype(values) or values.isna().any():
        return values.to_numpy(), None  # from_frame reports NaN and non-integer values
    text = values.astype(str)
    if text.str.fullmatch(_INTEGER_TOKEN).all():
        return text.astype(np.int64).to_numpy(), None
    codes, tokens = pd.factorize(text, sort=True)
    return codes.astype(np.int64), np.asarray(tokens, dtype=object)


def _keep_ids(values: pd.Series) -> tuple[np.ndarray, None]:
    return values.to_numpy(), None


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return path


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise LogError(f"{path}: not UTF-8 text ({error})") from error


def _read_header(path: Path, sep: str) -> list[str]:
    try:
        with path.open(encoding="utf-8") as file:
            line = file.readline().rstrip("\r\n").lstrip("\ufeff")
    except UnicodeDecodeError as error:  # pandas skips the header line unread: check it here
        raise LogError(f"{path}: not UTF-8 text ({error})") from error
    if not line:
        raise LogError(f"{path}: the file is empty or has no header line")
    return [name.strip() for name in line.split(sep)]


def _read_rows(
    source: Path | io.StringIO,
    path: Path,
    *,
    sep: str,
    skip_header: bool,
    dtype: dict[int, type] | None = None,
) -> pd.DataFrame:
    """All fields of a delimited text, columns numbered from 0; parse failures become `LogError`."""
    try:
        return pd.read_csv(source, sep=sep, header=None, skiprows=1 if skip_header else 0, dtype=dtype)
    except pd.errors.EmptyDataError as error:
        raise LogError(f"{path}: no data rows") from error
    except pd.errors.ParserError as error:
        raise LogError(f"{path}: cannot parse with separator {sep!r}: {str(error).strip()}") from error
    except UnicodeDecodeError as error:
        raise LogError(f"{path}: not UTF-8 text ({error})") from error


def _check_fields(
    frame: pd.DataFrame,
    path: Path,
    *,
    n_fields: int,
    sep: str,
    required: Iterable[int],
    header: bool = False,
) -> None:
    """Every line must have `n_fields` fields; pandas pads short lines with NaN, caught here."""
    if frame.shape[1] != n_fields:
        raise LogError(
            f"{path}: expected {n_fields} fields separated by {sep!r} per line, "
            f"found {frame.shape[1]} on the first data line; is the separator right?"
        )
    missing = frame[list(required)].isna().any(axis=1).to_numpy()
    if missing.any():
        line = int(np.flatnonzero(missing)[0]) + 1 + int(header)
        raise LogError(f"{path}: line {line} has fewer than {n_fields} fields or an empty field")


def _require_names(path: Path, names: list[str], columns: dict[str, str]) -> None:
    missing = [theirs for theirs in columns.values() if theirs not in names]
    if missing:
        raise LogError(
            f"{path}: no column(s) {missing} in the header; found {names}; is the separator right?"
        )
    repeated = sorted({theirs for theirs in columns.values() if names.count(theirs) > 1})
    if repeated:  # which of the two is meant cannot be told
        raise LogError(f"{path}: column(s) {repeated} appear more than once in the header {names}")
