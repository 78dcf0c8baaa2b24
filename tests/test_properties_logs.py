"""Properties of the log files' loaders (docs/ROBUSTNESS.md): a valid file of each format round-trips;
a corrupted one raises a `LogError` naming the file, and no loader writes to the file it reads."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recgym.data import (
    InteractionLog,
    LogError,
    load_ml1m_ratings,
    load_ml100k_udata,
    load_movielens,
    load_ratings_csv,
    load_recbole_inter,
    load_table,
)

TABLE_COLUMNS = {"user": "who", "item": "what", "rating": "stars", "timestamp": "when"}


@dataclass(frozen=True)
class Format:
    """A file format: its file name, loader, field separator, header, and what its ids may be:
    "integer" (MovieLens), "text" (integers, or any text, then kept as tokens) or "token" (RecBole:
    every field is a token, "007" and "7" differ)."""

    name: str
    load: Callable[[Path], InteractionLog]
    sep: str
    header: tuple[str, ...] | None
    ids: str = "integer"


def load_events(path: Path) -> InteractionLog:
    return load_table(path, TABLE_COLUMNS, sep=";")


INTER_HEADER = ("user_id:token", "item_id:token", "rating:float", "timestamp:float")
FORMATS = [
    Format("u.data", load_ml100k_udata, "\t", None),
    Format("ratings.dat", load_ml1m_ratings, "::", None),
    Format("ratings.csv", load_ratings_csv, ",", ("userId", "movieId", "rating", "timestamp")),
    Format("log.inter", load_recbole_inter, "\t", INTER_HEADER, "token"),
    Format("events.txt", load_events, ";", ("who", "what", "stars", "when"), "text"),
]
INTEGER_ID = st.integers(0, 10**12).map(str)
IDS = {
    "integer": INTEGER_ID,
    "text": INTEGER_ID | st.from_regex(r"[a-z][a-z0-9]{0,3}", fullmatch=True),
    "token": st.from_regex(r"[0-9a]{1,3}", fullmatch=True),
}
Row = tuple[str, str, int, int]


@st.composite
def rows(draw: st.DrawFn, ids: str) -> list[Row]:
    """1-12 rows (user, item, stars 1-5, time), (user, item, time) unique, ids drawn from IDS[ids]."""
    keys = st.tuples(IDS[ids], IDS[ids], st.integers(0, 2**40))
    unique_keys = draw(st.lists(keys, min_size=1, max_size=12, unique=True))
    return [(user, item, draw(st.integers(1, 5)), time) for user, item, time in unique_keys]


def text(fmt: Format, lines: list[Row]) -> str:
    header = [fmt.sep.join(fmt.header)] if fmt.header else []
    return "".join(line + "\n" for line in header + [fmt.sep.join(map(str, row)) for row in lines])


def raw_id(token: str, column: list[str]) -> int | str:
    """The raw id a loader reports: an int, unless the column holds tokens other than plain integers."""
    plain = all(re.fullmatch(r"0|[1-9][0-9]{0,17}", t) for t in column)
    return int(token) if plain else token


@settings(max_examples=150)
@given(fmt=st.sampled_from(FORMATS), data=st.data())
def test_valid_files_round_trip(tmp_path_factory, fmt, data) -> None:
    lines = data.draw(rows(fmt.ids), label="rows")
    path = tmp_path_factory.mktemp("valid") / fmt.name
    path.write_text(text(fmt, lines))
    log = load_movielens(path.parent) if fmt.ids != "text" else fmt.load(path)
    users, items = [row[0] for row in lines], [row[1] for row in lines]
    expected = [(raw_id(u, users), raw_id(i, items), float(r), t) for u, i, r, t in lines]
    frame = log.frame
    got = zip(
        log.raw_users(frame["user"]).tolist(),
        log.raw_items(frame["item"]).tolist(),
        frame["rating"],
        frame["timestamp"],
        strict=True,
    )
    assert sorted(got) == sorted(expected)
    assert log.name == fmt.name


def corrupt(fmt: Format, lines: list[Row], kind: str, row: int, value: str) -> str:
    """The file's text with one kind of damage at data line `row` (value: the junk to put in)."""
    fields = [list(map(str, line)) for line in lines]
    header = list(fmt.header or ())
    if kind == "empty":
        return ""
    if kind == "blank lines":
        return "\n" * (row + 1)
    if kind == "header only":
        return fmt.sep.join(header) + "\n"
    if kind == "other separator":
        return text(fmt, lines).replace(fmt.sep, value)
    if kind == "extra field":
        fields[row].append("1")
    elif kind == "missing field":
        fields[row].pop()
    elif kind in ("bad id", "bad rating"):
        fields[row][0 if kind == "bad id" else 2] = value
    elif kind == "repeated column":
        header.append(header[0])
        fields = [line + ["1"] for line in fields]
    elif kind == "missing column":
        header, fields = header[1:], [line[1:] for line in fields]
    body = [fmt.sep.join(header)] if header else []
    return "".join(line + "\n" for line in body + [fmt.sep.join(line) for line in fields])


KINDS = ["empty", "blank lines", "other separator", "extra field", "missing field", "bad rating", "bad id"]
HEADER_KINDS = ["header only", "repeated column", "missing column"]
CASES = [(fmt, kind) for fmt in FORMATS for kind in KINDS + (HEADER_KINDS if fmt.header else [])]
BAD_IDS = {  # junk in a column of integer ids (or, for RecBole, of tokens)
    "integer": ["", "nan", "-3", "1.5", "1e30", "abc", "99999999999999999999"],
    "text": ["", "nan", "-3", "1.5", "1e30"],  # other text makes the column a column of tokens
    "token": [""],
}
JUNK = {
    "other separator": [",", "\t", ";", "|", " ", ":"],
    "bad rating": ["nan", "inf", "-inf", "1e999", "x", "", "4.5.1", "0x4"],
}


@settings(max_examples=300)
@given(case=st.sampled_from(CASES), data=st.data())
def test_corrupted_files_raise_a_log_error_naming_the_file(tmp_path_factory, case, data) -> None:
    fmt, kind = case
    lines = data.draw(rows("token" if fmt.ids == "token" else "integer"), label="rows")
    row = data.draw(st.integers(0, len(lines) - 1), label="row")
    junk = BAD_IDS[fmt.ids] if kind == "bad id" else JUNK.get(kind, [""])
    value = data.draw(st.sampled_from([v for v in junk if v != fmt.sep]), label="junk")
    content = corrupt(fmt, lines, kind, row, value).encode()
    expect_load_error(tmp_path_factory.mktemp("bad") / fmt.name, content, fmt.load)


@settings(max_examples=100)
@given(fmt=st.sampled_from(FORMATS), data=st.data())
def test_invalid_utf8_raises_a_log_error_naming_the_file(tmp_path_factory, fmt, data) -> None:
    content = text(fmt, data.draw(rows(fmt.ids), label="rows")).encode()
    at = data.draw(st.integers(0, len(content)), label="at")
    junk = data.draw(st.binary(max_size=8), label="junk") + b"\xff"  # 0xff never occurs in UTF-8
    expect_load_error(
        tmp_path_factory.mktemp("bytes") / fmt.name, content[:at] + junk + content[at:], fmt.load
    )


def expect_load_error(path: Path, content: bytes, load: Callable[[Path], InteractionLog]) -> None:
    path.write_bytes(content)
    with pytest.raises(LogError) as error:
        load(path)
    assert path.name in str(error.value)
    assert path.read_bytes() == content
