"""Properties of the log files' loaders (docs/ROBUSTNESS.md): a valid file of each format round-trips;
a corrupted one raises a `LogError` naming the file, and no loader writes to the file it reads."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
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
BIG = 2**53  # from here on float64 cannot tell neighbouring integers apart
INTEGER = st.integers(0, 10**12) | st.integers(BIG - 3, BIG + 3) | st.integers(0, 2**63 - 1)
TIME = st.integers(0, 2**40) | st.integers(-(2**63), 2**63 - 1) | st.integers(16 * 10**17, 18 * 10**17)
ZERO_FRACTION = st.sampled_from(["", "", ".0", ".000"])  # 42, 42.0 and 42.000 are all 42
IDS = {
    "integer": INTEGER,
    "text": INTEGER
    | st.from_regex(r"[a-z][a-z0-9]{0,3}", fullmatch=True).filter(
        lambda token: token not in ("inf", "nan", "null")  # pandas reads these as numbers or missing
    ),
    "token": st.from_regex(r"[0-9a]{1,3}", fullmatch=True) | INTEGER,
}


@dataclass(frozen=True)
class Row:
    """A data line's fields as written, and the time in seconds it stands for."""

    user: str
    item: str
    stars: int
    time: str
    seconds: int

    def fields(self) -> list[str]:
        return [self.user, self.item, str(self.stars), self.time]


@st.composite
def rows(draw: st.DrawFn, ids: str) -> list[Row]:
    """1-12 rows (user, item, stars 1-5, time), (user, item, time) unique, ids drawn from IDS[ids].

    Integers are sometimes written with a zero fraction; a file's times are all integers (up to
    int64, nanosecond-scale ones included) or all ISO-8601 dates, with a `T...Z` or a space.
    """
    iso = draw(st.booleans())
    time = st.integers(-(2**31), 2**33) if iso else TIME
    keys = st.tuples(IDS[ids], IDS[ids], time)
    unique_keys = draw(st.lists(keys, min_size=1, max_size=12, unique=True))
    return [
        Row(spell(draw, user), spell(draw, item), draw(st.integers(1, 5)), when(draw, seconds, iso), seconds)
        for user, item, seconds in unique_keys
    ]


def spell(draw: st.DrawFn, value: int | str) -> str:
    return value if isinstance(value, str) else f"{value}{draw(ZERO_FRACTION, label='fraction')}"


def when(draw: st.DrawFn, seconds: int, iso: bool) -> str:
    if not iso:
        return spell(draw, seconds)
    pattern = draw(st.sampled_from(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S"]), label="iso")
    return datetime.fromtimestamp(seconds, UTC).strftime(pattern)


def text(fmt: Format, lines: list[Row]) -> str:
    header = [fmt.sep.join(fmt.header)] if fmt.header else []
    return "".join(line + "\n" for line in header + [fmt.sep.join(row.fields()) for row in lines])


def raw_id(token: str, column: list[str], ids: str) -> int | str:
    """The raw id a loader reports: an int (`42.0` is 42), unless the column holds other tokens.

    RecBole tokens are ints only when all are digits without leading zeros ("3.0" and "3" differ).
    """
    integer = r"0|[1-9][0-9]{0,17}" if ids == "token" else r"[0-9]+(\.0*)?"
    plain = ids == "integer" or all(re.fullmatch(integer, t) for t in column)
    return int(token.split(".")[0]) if plain else token


@settings(max_examples=150)
@given(fmt=st.sampled_from(FORMATS), data=st.data())
@pytest.mark.slow
def test_valid_files_round_trip(tmp_path_factory, fmt, data) -> None:
    lines = data.draw(rows(fmt.ids), label="rows")
    path = tmp_path_factory.mktemp("valid") / fmt.name
    path.write_text(text(fmt, lines))
    log = load_movielens(path.parent) if fmt.ids != "text" else fmt.load(path)
    users, items = [row.user for row in lines], [row.item for row in lines]
    expected = [
        (raw_id(row.user, users, fmt.ids), raw_id(row.item, items, fmt.ids), float(row.stars), row.seconds)
        for row in lines
    ]
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
    fields = [line.fields() for line in lines]
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
    elif kind in ("bad id", "bad rating", "bad time"):
        fields[row][{"bad id": 0, "bad rating": 2, "bad time": 3}[kind]] = value
    elif kind == "repeated column":
        header.append(header[0])
        fields = [line + ["1"] for line in fields]
    elif kind == "missing column":
        header, fields = header[1:], [line[1:] for line in fields]
    body = [fmt.sep.join(header)] if header else []
    return "".join(line + "\n" for line in body + [fmt.sep.join(line) for line in fields])


KINDS = [
    "empty",
    "blank lines",
    "other separator",
    "extra field",
    "missing field",
    "bad rating",
    "bad time",
    "bad id",
]
HEADER_KINDS = ["header only", "repeated column", "missing column"]
CASES = [(fmt, kind) for fmt in FORMATS for kind in KINDS + (HEADER_KINDS if fmt.header else [])]
BAD_IDS = {  # junk in a column of integer ids (or, for RecBole, of tokens)
    "integer": ["", "nan", "-3", "1.5", "1e3", "1e30", "abc", "99999999999999999999", f"{2**63}.0"],
    "text": ["", "nan", "-3", "1.5", "1e3", "1e30", str(2**63)],  # other text makes the column tokens
    "token": [""],
}
JUNK = {
    "other separator": [",", "\t", ";", "|", " ", ":"],
    "bad rating": ["nan", "inf", "-inf", "1e999", "x", "", "4.5.1", "0x4"],
    "bad time": ["1.5", "1e9", "x", "", "2024-13-01", "12:00", str(2**63), "1700000000.5"],
}


@settings(max_examples=300)
@given(case=st.sampled_from(CASES), data=st.data())
@pytest.mark.slow
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
