"""Side information: typed feature tables of users or items, keyed by the raw ids a log uses.

Columns come in RecBole's four kinds: `token` (one category: gender, occupation), `token_seq` (a bag
of categories: genres, tags, title words), `float` (age, price) and `float_seq` (a numeric vector).
They are encoded once, for every model: tokens as codes into a sorted vocabulary with 0 meaning "no
value", bags padded with 0 to the longest. A table keeps every id it was given: ids the log never saw
are the users and items a cold-start simulator meets. Aligned to a log (`aligned`), the rows of ids
the table lacks are marked missing (`present` False), never filled with a zero passed off as a value.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import torch

from recgym.data.interactions import LogError

FeatureKind = Literal["token", "token_seq", "float", "float_seq"]
KINDS: tuple[str, ...] = get_args(FeatureKind)


@dataclass(frozen=True)
class FeatureColumn:
    """One encoded column: `values` int64 codes [n] (token), [n, L] (token_seq, 0 pads), float64 [n]
    (float) or [n, L] (float_seq, 0 pads); `lengths` [n] entries per row of a bag; `vocabulary` the
    token of each code >= 1 (code c is `vocabulary[c - 1]`)."""

    kind: FeatureKind
    values: np.ndarray
    lengths: np.ndarray | None = None
    vocabulary: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind in ("token", "token_seq"):
            return f"{self.kind} ({len(self.vocabulary)} values)"
        return self.kind if self.kind == "float" else f"float_seq (up to {self.values.shape[1]})"

    def take(self, rows: np.ndarray, present: np.ndarray) -> FeatureColumn:
        """The column at rows (positions into it), with rows not present zeroed: code 0 ("no value"),
        empty bags, 0.0 floats, which `present` tells from real values."""
        values = np.where(present.reshape((-1,) + (1,) * (self.values.ndim - 1)), self.values[rows], 0)
        lengths = None if self.lengths is None else np.where(present, self.lengths[rows], 0)
        return FeatureColumn(self.kind, values.astype(self.values.dtype), lengths, self.vocabulary)


@dataclass(frozen=True)
class FeatureTable:
    """Feature rows of users or items: `ids` [n] raw ids (unique), `columns` by name, and `present` [n]
    (False for a row that stands for an id the source had no features for)."""

    ids: np.ndarray
    columns: dict[str, FeatureColumn]
    present: np.ndarray
    name: str = "features"

    def __len__(self) -> int:
        return len(self.ids)

    def describe(self) -> str:
        columns = ", ".join(f"{name} {column.describe()}" for name, column in self.columns.items())
        missing = int((~self.present).sum())
        return f"{self.name}: {len(self)} rows ({missing} without features); {columns}"

    def aligned(self, ids: np.ndarray, what: str) -> FeatureTable:
        """The table's rows in the order of `ids` (a log's raw ids of `what`, "users" or "items"), with
        ids the table lacks marked missing. Ids are compared as text, so 17 and "17" match. `LogError`
        when no id matches, which means the two name their ids differently (say 17 against "u17"),
        not that every row is missing."""
        positions = pd.Index(self.ids.astype(str)).get_indexer(pd.Index(np.asarray(ids).astype(str)))
        found = positions >= 0
        if len(ids) and not found.any():
            raise LogError(
                f"{self.name}: none of the log's {len(ids)} {what} has a row (the log's ids look like "
                f"{_shown(ids[0])}, the table's like {_shown(self.ids[0])}); the table must be keyed by "
                "the log's ids"
            )
        rows = np.where(found, positions, 0)
        present = found & self.present[rows]
        columns = {name: column.take(rows, present) for name, column in self.columns.items()}
        return FeatureTable(np.asarray(ids), columns, present, self.name)

    def fingerprint(self) -> str:
        """SHA-256 of the ids, the kinds, the vocabularies and the values: a part of the log's cache key."""
        digest = hashlib.sha256()
        digest.update("\x1f".join(map(str, self.ids.tolist())).encode())
        digest.update(self.present.tobytes())
        for name, column in self.columns.items():
            digest.update(f"\x1e{name}:{column.kind}:{chr(31).join(column.vocabulary)}".encode())
            digest.update(np.ascontiguousarray(column.values).tobytes())
            if column.lengths is not None:
                digest.update(column.lengths.tobytes())
        return digest.hexdigest()

    def to_tensors(self, prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The table as tensors named `prefix.*` and JSON metadata, for a cache entry (`from_tensors`)."""
        tensors = {f"{prefix}.present": torch.tensor(self.present)}  # copies: arrays may be read-only
        integer_ids = self.ids.dtype.kind in "iu"
        if integer_ids:
            tensors[f"{prefix}.ids"] = torch.tensor(self.ids.astype(np.int64))
        columns = []
        for position, (name, column) in enumerate(self.columns.items()):
            tensors[f"{prefix}.{position}.values"] = torch.tensor(column.values)
            if column.lengths is not None:
                tensors[f"{prefix}.{position}.lengths"] = torch.tensor(column.lengths)
            columns.append({"name": name, "kind": column.kind, "vocabulary": list(column.vocabulary)})
        meta = {"name": self.name, "columns": columns, "ids": None if integer_ids else self.ids.tolist()}
        return tensors, meta

    @classmethod
    def from_tensors(
        cls, prefix: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
    ) -> FeatureTable:
        """The table `to_tensors` wrote."""
        ids = (
            tensors[f"{prefix}.ids"].numpy() if meta["ids"] is None else np.asarray(meta["ids"], dtype=object)
        )
        columns = {}
        for position, column in enumerate(meta["columns"]):
            lengths = tensors.get(f"{prefix}.{position}.lengths")
            columns[column["name"]] = FeatureColumn(
                column["kind"],
                tensors[f"{prefix}.{position}.values"].numpy(),
                None if lengths is None else lengths.numpy(),
                tuple(column["vocabulary"]),
            )
        return cls(ids, columns, tensors[f"{prefix}.present"].numpy(), meta["name"])

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        id_column: str,
        kinds: dict[str, FeatureKind] | None = None,
        *,
        separator: str = " ",
        name: str = "features",
    ) -> FeatureTable:
        """Validate and encode a frame of one row per id.

        Every column but `id_column` is a feature; its kind is `kinds[column]` or inferred: numbers
        are `float`, lists of text `token_seq`, lists of numbers `float_seq`, anything else `token`.
        Text in a bag column is split on `separator`. An empty token cell means "no value" (code 0);
        a float must be a finite number. `LogError`, naming the column, for: a missing or repeated id
        column, empty or repeated ids, a kind none of the four, a kind given for an absent column,
        NaN or text in a float column, and text that is no number in a float_seq.
        """
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name}: expected a pandas DataFrame, got {type(frame).__name__}")
        kinds = dict(kinds or {})
        if id_column not in frame.columns:
            raise LogError(f"{name}: no id column {id_column!r}; found {list(frame.columns)}")
        repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        if repeated:
            raise LogError(f"{name}: columns {repeated} appear more than once")
        absent = sorted(set(kinds) - set(frame.columns) - {id_column})
        if absent:
            raise LogError(f"{name}: kinds are given for columns {absent} the table lacks")
        ids = frame[id_column]
        empty = ids.isna() | (ids.astype(str).str.strip() == "")
        if empty.any():
            raise LogError(f"{name}: column {id_column!r} has {int(empty.sum())} empty ids")
        doubled = ids[ids.duplicated()]
        if len(doubled):
            raise LogError(
                f"{name}: column {id_column!r} repeats {doubled.nunique()} ids (first "
                f"{_shown(doubled.iloc[0])}); a feature table has one row per id"
            )
        columns = {}
        for column in frame.columns:
            if column == id_column:
                continue
            values = frame[column]
            kind = kinds.get(column) or _inferred_kind(values)
            if kind not in KINDS:
                raise LogError(f"{name}: column {column!r} has kind {kind!r}, none of {', '.join(KINDS)}")
            label = f"{name}: column {column!r} ({kind})"
            columns[str(column)] = _encoded(values, kind, separator, label)
        return cls(ids.to_numpy(), columns, np.ones(len(frame), dtype=bool), name)


def _inferred_kind(values: pd.Series) -> FeatureKind:
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return "float"
    first = next((value for value in values if isinstance(value, list | tuple | np.ndarray)), None)
    if first is None:
        return "token"
    numbers = len(first) > 0 and all(_is_number(value) for value in first)
    return "float_seq" if numbers else "token_seq"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(value, bool | np.bool_)


def _encoded(values: pd.Series, kind: FeatureKind, separator: str, label: str) -> FeatureColumn:
    if kind == "float":
        return FeatureColumn(kind, _floats(values, label))
    bags = [_bag(value, separator) for value in values]
    if kind == "float_seq":
        rows = [_floats(pd.Series(bag, dtype=object), label) for bag in bags]
        return FeatureColumn(kind, *_padded(rows, np.float64))
    if kind == "token":
        tokens = ["" if _empty(value) else str(value) for value in values]
        vocabulary = tuple(sorted(set(tokens) - {""}))
        codes = {token: code for code, token in enumerate(vocabulary, start=1)} | {"": 0}
        return FeatureColumn(kind, np.array([codes[t] for t in tokens], dtype=np.int64), None, vocabulary)
    vocabulary = tuple(sorted({str(token) for bag in bags for token in bag}))
    codes = {token: code for code, token in enumerate(vocabulary, start=1)}
    rows = [np.array([codes[str(token)] for token in bag], dtype=np.int64) for bag in bags]
    values_, lengths = _padded(rows, np.int64)
    return FeatureColumn(kind, values_, lengths, vocabulary)


def _floats(values: pd.Series, label: str) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    text = numbers.isna() & values.notna()
    if text.any():
        raise LogError(f"{label} must hold numbers; found {_shown(values[text].iloc[0])}")
    if numbers.isna().any():
        raise LogError(
            f"{label} has {int(numbers.isna().sum())} empty values (first at row "
            f"{int(np.flatnonzero(numbers.isna().to_numpy())[0])}): give each row a number, or read the "
            "column as a token, where an empty cell means 'no value'"
        )
    array = numbers.to_numpy(dtype=np.float64)
    if not np.isfinite(array).all():
        raise LogError(f"{label} must hold finite numbers")
    return array


def _bag(value: Any, separator: str) -> list[Any]:
    if isinstance(value, list | tuple | np.ndarray):
        return list(value)
    if _empty(value):
        return []
    return [part for part in str(value).split(separator) if part]


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value == ""


def _padded(rows: list[np.ndarray], dtype: type) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(row) for row in rows], dtype=np.int64)
    padded: np.ndarray = np.zeros((len(rows), max(int(lengths.max(initial=0)), 1)), dtype=dtype)
    for position, row in enumerate(rows):
        padded[position, : len(row)] = row
    return padded, lengths


def _shown(value: Any) -> str:
    """A value as a message shows it: 17 or 'u17', never np.int64(17)."""
    return repr(value.item() if isinstance(value, np.generic) else value)
