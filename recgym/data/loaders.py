"""Loaders that turn rating files on disk into an `InteractionLog`.

Every loader raises `FileNotFoundError` for a missing file and `LogError` naming the file and the problem
for one it cannot parse (wrong separator, wrong number of fields), so a bad download fails loudly
instead of producing a log with shifted columns.

Ids and times never pass through a float, which cannot tell 2**53 + 1 from 2**53: pandas reads a
column with one `3.0` as float64, so such columns are read again as text and converted from their
digits (`_exact_integers`). A time column may also hold ISO-8601 dates, which become seconds.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype

from recgym.data.interactions import COLUMNS, INT64_END, Feedback, InteractionLog, LogError

PARQUET_SUFFIXES = (".parquet", ".pq")
MOVIELENS_FILES = ("u.data", "ratings.dat", "ratings.csv")
_ISO_EXAMPLES = "2024-03-01T12:00:00Z or 2024-03-01 12:00:00"
IdKind = Literal["integer", "number or token", "token"]
_INTEGER_TOKEN = r"0|[1-9][0-9]{0,17}"  # digit strings that round-trip through int64
_WRITTEN_INTEGER = r"\s*([+-]?[0-9]+)(?:\.0*)?\s*"  # 42, -42, 42.0, 17.000: the digits before the point
_ID_AND_TIME_FIELDS = (0, 1, 3)  # positions of user, item and timestamp in the headerless MovieLens files


def load_ml100k_udata(path: str | Path) -> InteractionLog:
    """ML-100K `u.data` (also `u1.base` etc.): tab-separated `user item rating timestamp`, no header."""
    path = _existing(path)
    frame = _read_rows(path, path, sep="\t", skip_header=False, exact=_ID_AND_TIME_FIELDS)
    _check_fields(frame, path, n_fields=4, sep="\t", required=range(4))
    data = dict(zip(COLUMNS, (frame[position] for position in range(4)), strict=True))
    return _assemble(data, path, feedback="rating", rating_range=(1.0, 5.0), ids="integer")


def load_ml1m_ratings(path: str | Path) -> InteractionLog:
    """ML-1M `ratings.dat`: `UserID::MovieID::Rating::Timestamp`, no header.

    The two-character separator is rewritten to the ASCII unit separator so pandas' fast C parser
    reads the file (a multi-character separator needs the slow Python parser).
    """
    path = _existing(path)
    text = _read_text(path).replace("::", "\x1f")
    frame = _read_rows(io.StringIO(text), path, sep="\x1f", skip_header=False, exact=_ID_AND_TIME_FIELDS)
    _check_fields(frame, path, n_fields=4, sep="::", required=range(4))
    data = dict(zip(COLUMNS, (frame[position] for position in range(4)), strict=True))
    return _assemble(data, path, feedback="rating", rating_range=(1.0, 5.0), ids="integer")


def load_ratings_csv(path: str | Path) -> InteractionLog:
    """MovieLens latest `ratings.csv` (header `userId,movieId,rating,timestamp`), half stars 0.5-5.

    MovieLens ids are integers: other text in an id column is an error, not a token.
    """
    path = _existing(path)
    columns = {"user": "userId", "item": "movieId", "rating": "rating", "timestamp": "timestamp"}
    return _load_delimited(path, columns, sep=",", feedback="rating", rating_range=(0.5, 5.0), ids="integer")


def load_recbole_inter(path: str | Path, rating_range: tuple[float, float] | None = None) -> InteractionLog:
    """RecBole atomic `.inter` file: tab-separated, header fields `name:type` (e.g. `user_id:token`).

    Columns are matched by the name before ':'. Ids are tokens: digit-only tokens become integers,
    any other tokens are indexed and kept as strings in `user_ids`/`item_ids`. Without a `rating`
    field the log holds clicks; without a `timestamp` field the log is untimed (`timed` False): each
    user's rows keep the file's order, and nothing that needs real times accepts it.
    """
    path = _existing(path)
    names = [field.split(":")[0] for field in _read_header(path, "\t")]
    columns = {"user": "user_id", "item": "item_id"}
    columns |= {optional: optional for optional in ("rating", "timestamp") if optional in names}
    return _load_delimited(
        path, columns, sep="\t", feedback="rating", rating_range=rating_range, ids="token", names=names
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

    In a text file, ids that are all integers (`42`, or `42.0`) are read exactly as integers, and ids
    with other text are kept as tokens (then `42.0` and `42` differ); a column of numbers that are not
    all integers (`1.5`, `1e3`) is an error. Times are integers or ISO-8601 dates
    (`2024-03-01T12:00:00Z`, `2024-03-01 12:00:00`), which become seconds. In parquet, text ids are
    tokens unless all are digits without leading zeros.

    :param columns: `{"user": ..., "item": ...}` plus optionally `"rating"` and `"timestamp"`. Without
        a rating every row is a click (rating 1.0, feedback "click"); without a timestamp the log
        is untimed (`timed` False): each user's rows keep the file's order, and nothing that needs
        real times (sessions, temporal splits) accepts it.
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
        return _assemble(data, path, feedback=feedback, rating_range=rating_range, ids="token", names=columns)
    return _load_delimited(
        path, columns, sep=sep, feedback=feedback, rating_range=rating_range, ids="number or token"
    )


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
    ids: IdKind,
    names: list[str] | None = None,
) -> InteractionLog:
    """Read a text file with a header line and hand the mapped columns to `_assemble`.

    Pandas silently shifts or drops fields when a data line is longer than the header, so the header
    is read on its own and every data line must have exactly as many fields. `ids` says what the ids
    may be (`_ids`; "token" reads them as text, since RecBole's "007" and "7" differ); `names`
    overrides the header's field names.
    """
    names = _read_header(path, sep) if names is None else names
    _require_names(path, names, columns)
    positions = {ours: names.index(theirs) for ours, theirs in columns.items()}
    tokens = [positions["user"], positions["item"]] if ids == "token" else []
    exact = [positions[ours] for ours in ("user", "item", "timestamp") if ours in positions]
    frame = _read_rows(path, path, sep=sep, skip_header=True, text=tokens, exact=exact)
    _check_fields(frame, path, n_fields=len(names), sep=sep, required=positions.values(), header=True)
    data = {ours: frame[position] for ours, position in positions.items()}
    return _assemble(data, path, feedback=feedback, rating_range=rating_range, ids=ids, names=columns)


def _assemble(
    data: dict[str, pd.Series],
    path: Path,
    *,
    feedback: Feedback,
    rating_range: tuple[float, float] | None,
    ids: IdKind,
    names: dict[str, str] | None = None,
) -> InteractionLog:
    """Convert ids and times exactly, index token ids, fill the optional columns (a missing time with
    the row number, the log then untimed), validate, and put the raw tokens back in the id maps. `names`
    maps recgym's columns to the file's, for messages."""
    label = {ours: f"{path}: column {(names or {}).get(ours, ours)!r}" for ours in COLUMNS}
    n_rows = len(data["user"])
    users, user_tokens = _ids(data["user"], label["user"], ids)
    items, item_tokens = _ids(data["item"], label["item"], ids)
    if "rating" in data:
        rating = data["rating"].to_numpy()
    else:
        rating, feedback = np.ones(n_rows), "click"
    if "timestamp" in data:
        timestamp = _times(data["timestamp"], label["timestamp"])
    else:
        timestamp = np.arange(n_rows, dtype=np.int64)
    frame = pd.DataFrame({"user": users, "item": items, "rating": rating, "timestamp": timestamp})
    log = InteractionLog.from_frame(
        frame, feedback=feedback, rating_range=rating_range, name=path.name, timed="timestamp" in data
    )
    return dataclasses.replace(
        log,
        user_ids=log.user_ids if user_tokens is None else user_tokens[log.user_ids],
        item_ids=log.item_ids if item_tokens is None else item_tokens[log.item_ids],
    )


def _ids(values: pd.Series, label: str, kind: IdKind) -> tuple[np.ndarray, np.ndarray | None]:
    """Ids as integers, or as sorted codes returned with the tokens to restore.

    Numbers (parquet columns, or text pandas read as int64) go on to `from_frame`, which checks them.
    Text: "token" ids are integers only when all are digits without leading zeros (so RecBole's "007"
    and "7" stay distinct users), else tokens. Other text is integers when every field is written as
    one (`_exact_integers`), else an error for "integer" ids and for a column of numbers such as `1.5`
    or `1e3` (an exponent is refused: a spreadsheet writes 1.23457E+15 for an id it rounded), else
    tokens.
    """
    if is_numeric_dtype(values) or values.isna().any():
        return values.to_numpy(), None  # from_frame reports NaN and non-integer values
    text = values.astype(str)
    if kind == "token":
        if text.str.fullmatch(_INTEGER_TOKEN).all():
            return text.astype(np.int64).to_numpy(), None
    else:
        integers = _exact_integers(text, label)
        if integers is not None:
            return integers, None
        if kind == "integer" or pd.to_numeric(text, errors="coerce").notna().all():
            bad = text[~text.str.fullmatch(_WRITTEN_INTEGER)].iloc[0]
            raise LogError(f"{label} must hold integers, written as digits such as 42 or 42.0; found {bad!r}")
    codes, tokens = pd.factorize(text, sort=True)
    return codes.astype(np.int64), np.asarray(tokens, dtype=object)


def _times(values: pd.Series, label: str) -> pd.Series | np.ndarray:
    """Times as int64, or as UTC datetimes (which `from_frame` turns into seconds) when text holds
    ISO-8601 dates; numbers and datetimes (parquet) go on to `from_frame`, which checks them."""
    if is_numeric_dtype(values) or is_datetime64_any_dtype(values) or values.isna().any():
        return values  # from_frame checks numbers, converts datetimes and reports NaN
    text = values.astype(str)
    integers = _exact_integers(text, label)
    if integers is not None:
        return integers
    dates = pd.to_datetime(text.str.strip(), format="ISO8601", utc=True, errors="coerce")
    if dates.notna().all():
        return dates
    neither = dates.isna() & ~text.str.fullmatch(_WRITTEN_INTEGER)
    found = f"found {text[neither].iloc[0]!r}" if neither.any() else "found a mix of both"
    raise LogError(
        f"{label} must hold integer times (such as Unix seconds) or ISO-8601 dates ({_ISO_EXAMPLES}); {found}"
    )


def _exact_integers(text: pd.Series, label: str) -> np.ndarray | None:
    """int64 values of text fields that each write an integer (digits, maybe signed, maybe with a zero
    fraction: `3.0`), parsed from the digits, never through a float; None when one writes anything
    else. LogError naming `label` for an integer beyond int64."""
    digits = text.str.extract(f"^{_WRITTEN_INTEGER}$", expand=False)
    if digits.isna().any():
        return None
    numbers = np.array([int(number) for number in digits], dtype=object)
    beyond = (numbers < -INT64_END) | (numbers >= INT64_END)
    if beyond.any():
        raise LogError(f"{label} has {int(beyond.sum())} values outside the int64 range")
    return numbers.astype(np.int64)


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
    text: Sequence[int] = (),
    exact: Sequence[int] = (),
) -> pd.DataFrame:
    """All fields of a delimited text, columns numbered from 0; parse failures become `LogError`.

    Fields at positions `text` are read as text. Those at positions `exact` are int64 where pandas
    read the whole column so (its integer parser is exact); any other such column, which pandas may
    have read through a float (one `3.0` suffices), is read again as text.
    """
    frame = _parse(source, path, sep=sep, skip_header=skip_header, text=text)
    inexact = [position for position in exact if position in frame and frame[position].dtype != np.int64]
    if not inexact:
        return frame
    if isinstance(source, io.StringIO):
        source.seek(0)
    return _parse(source, path, sep=sep, skip_header=skip_header, text=[*text, *inexact])


def _parse(
    source: Path | io.StringIO, path: Path, *, sep: str, skip_header: bool, text: Sequence[int]
) -> pd.DataFrame:
    dtype = dict.fromkeys(text, str)
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
