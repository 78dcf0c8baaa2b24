"""Each file format parses tiny hand-written files; missing and malformed files fail loudly."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def triples(log: InteractionLog) -> list[tuple]:
    """(raw user, raw item, rating, timestamp) in log order."""
    frame = log.frame
    users, items = log.raw_users(frame["user"]), log.raw_items(frame["item"])
    return list(
        zip(
            users.tolist(), items.tolist(), frame["rating"].tolist(), frame["timestamp"].tolist(), strict=True
        )
    )


EXPECTED = [(3, 20, 2.0, 300), (3, 10, 5.0, 500), (7, 10, 4.0, 100)]


def test_ml100k_udata(tmp_path: Path) -> None:
    log = load_ml100k_udata(write(tmp_path / "u.data", "7\t10\t4\t100\n3\t10\t5\t500\n3\t20\t2\t300\n"))
    assert triples(log) == EXPECTED
    assert (log.name, log.feedback, log.rating_range) == ("u.data", "rating", (1.0, 5.0))


def test_ml1m_ratings(tmp_path: Path) -> None:
    log = load_ml1m_ratings(write(tmp_path / "ratings.dat", "7::10::4::100\n3::10::5::500\n3::20::2::300\n"))
    assert triples(log) == EXPECTED
    assert log.name == "ratings.dat"


def test_ratings_csv_has_half_stars(tmp_path: Path) -> None:
    text = "userId,movieId,rating,timestamp\n7,10,4.0,100\n3,10,0.5,500\n3,20,2.5,300\n"
    log = load_ratings_csv(write(tmp_path / "ratings.csv", text))
    assert triples(log) == [(3, 20, 2.5, 300), (3, 10, 0.5, 500), (7, 10, 4.0, 100)]
    assert log.rating_range == (0.5, 5.0)


def test_recbole_inter_with_integer_tokens(tmp_path: Path) -> None:
    header = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
    text = header + "7\t10\t4\t100\n3\t10\t5\t500\n3\t20\t2\t300\n"
    log = load_recbole_inter(write(tmp_path / "tiny.inter", text))
    assert triples(log) == EXPECTED
    assert log.user_ids.dtype == np.int64
    assert log.name == "tiny.inter"


def test_recbole_inter_keeps_string_tokens_and_fills_missing_fields(tmp_path: Path) -> None:
    text = "item_id:token\tuser_id:token\textra:token_seq\nB01\tu7\ta b\nA02\t007\t\nB01\t7\tc\n"
    log = load_recbole_inter(write(tmp_path / "clicks.inter", text))
    assert log.feedback == "click"
    assert sorted(log.user_ids.tolist()) == ["007", "7", "u7"]
    assert triples(log) == [("007", "A02", 1.0, 1), ("7", "B01", 1.0, 2), ("u7", "B01", 1.0, 0)]


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    for loader in (
        load_ml100k_udata,
        load_ml1m_ratings,
        load_ratings_csv,
        load_recbole_inter,
        load_movielens,
    ):
        with pytest.raises(FileNotFoundError, match="nowhere.txt"):
            loader(tmp_path / "nowhere.txt")


@pytest.mark.parametrize(
    ("name", "text", "loader", "message"),
    [
        ("u.data", "7,10,4,100\n3,10,5,500\n", load_ml100k_udata, "expected 4 fields"),
        ("u.data", "7\t10\t4\t100\n3\t10\t5\n", load_ml100k_udata, "line 2"),
        ("u.data", "7\t10\t4\t100\n3\t10\t5\t500\t9\n", load_ml100k_udata, "Expected 4 fields in line 2"),
        ("u.data", "", load_ml100k_udata, "no data rows"),
        ("ratings.dat", "7\t10\t4\t100\n", load_ml1m_ratings, "'::'"),
        ("ratings.csv", "userId;movieId;rating;timestamp\n7;10;4;100\n", load_ratings_csv, "no column"),
        ("ratings.csv", "userId,movieId,rating,timestamp\n7,10,4,100,5\n", load_ratings_csv, "found 5"),
        ("ratings.csv", "userId,movieId,rating,timestamp\n7,10,4,100\n8,10\n", load_ratings_csv, "line 3"),
        (
            "ratings.csv",
            "userId,movieId,rating,timestamp\n7,10,9,100\n",
            load_ratings_csv,
            "outside the range",
        ),
        ("x.inter", "user_id:token,item_id:token\n7,10\n", load_recbole_inter, "item_id"),
    ],
    ids=[
        "sep",
        "short",
        "long",
        "empty",
        "dat-sep",
        "csv-sep",
        "csv-long",
        "csv-short",
        "range",
        "inter-sep",
    ],
)
def test_malformed_file_raises_log_error(tmp_path: Path, name: str, text: str, loader, message: str) -> None:
    path = write(tmp_path / name, text)
    with pytest.raises(LogError, match=message) as error:
        loader(path)
    assert name in str(error.value)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("u.data", "7\t10\t4\t100\n"),
        ("ratings.dat", "7::10::4::100\n"),
        ("ratings.csv", "userId,movieId,rating,timestamp\n7,10,4,100\n"),
        ("ml.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\n7\t10\t4\t100\n"),
    ],
)
def test_load_movielens_dispatches_on_a_directory(tmp_path: Path, name: str, text: str) -> None:
    write(tmp_path / name, text)
    write(tmp_path / "movies.csv", "movieId,title\n10,Ten\n")
    for path in (tmp_path, tmp_path / name):
        log = load_movielens(path)
        assert log.name == name
        assert triples(log) == [(7, 10, 4.0, 100)]


def test_load_movielens_names_what_it_looked_for(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"u\.data.*ratings\.dat.*ratings\.csv.*\.inter"):
        load_movielens(tmp_path)
    write(tmp_path / "a.inter", "user_id:token\titem_id:token\n1\t2\n")
    write(tmp_path / "b.inter", "user_id:token\titem_id:token\n1\t2\n")
    with pytest.raises(ValueError, match="several"):
        load_movielens(tmp_path)


def test_load_table_csv_with_mapping(tmp_path: Path) -> None:
    text = "when,who,what,stars,note\n100,7,10,4,x\n500,3,10,5,\n300,3,20,2,y\n"
    path = write(tmp_path / "events.csv", text)
    columns = {"user": "who", "item": "what", "rating": "stars", "timestamp": "when"}
    log = load_table(path, columns, rating_range=(1, 5))
    assert triples(log) == EXPECTED
    assert log.name == "events.csv"


def test_load_table_without_rating_or_time_is_clicks_in_row_order(tmp_path: Path) -> None:
    path = write(tmp_path / "clicks.tsv", "who\twhat\nalice\t10\nbob\t10\nalice\t20\n")
    log = load_table(path, {"user": "who", "item": "what"}, sep="\t")
    assert log.feedback == "click" and not log.timed
    assert triples(log) == [("alice", 10, 1.0, 0), ("alice", 20, 1.0, 2), ("bob", 10, 1.0, 1)]


def test_load_table_rejects_bad_mappings(tmp_path: Path) -> None:
    path = write(tmp_path / "events.csv", "who,what\n1,2\n")
    with pytest.raises(ValueError, match="'user' and 'item'"):
        load_table(path, {"user": "who"})
    with pytest.raises(LogError, match="whom"):
        load_table(path, {"user": "whom", "item": "what"})


def test_load_table_parquet(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(
        {"who": [7, 3, 3], "what": [10, 10, 20], "stars": [4.0, 5.0, 2.0], "when": [100, 500, 300]},
        index=[5, 6, 7],
    )
    frame.to_parquet(tmp_path / "events.parquet")
    columns = {"user": "who", "item": "what", "rating": "stars", "timestamp": "when"}
    log = load_table(tmp_path / "events.parquet", columns, rating_range=(1, 5))
    assert triples(log) == EXPECTED


BIG = 2**53  # from here on float64 cannot tell neighbouring integers apart
TABLE = {"user": "who", "item": "what", "rating": "stars", "timestamp": "when"}
FORMATS = {  # name: (separator, loader, header line or None)
    "u.data": ("\t", load_ml100k_udata, None),
    "ratings.dat": ("::", load_ml1m_ratings, None),
    "ratings.csv": (",", load_ratings_csv, "userId,movieId,rating,timestamp"),
    "events.csv": (",", lambda path: load_table(path, TABLE, rating_range=(1, 5)), "who,what,stars,when"),
    "log.inter": ("\t", load_recbole_inter, "user_id:token\titem_id:token\trating:float\ttimestamp:float"),
}


def write_rows(tmp_path: Path, name: str, rows: list[tuple]) -> InteractionLog:
    """Write rows (user, item, rating, time; each field as str() spells it) in format `name`; load them."""
    sep, load, header = FORMATS[name]
    lines = ([header] if header else []) + [sep.join(map(str, row)) for row in rows]
    return load(write(tmp_path / name, "".join(line + "\n" for line in lines)))


@pytest.mark.parametrize("name", ["u.data", "ratings.dat", "ratings.csv", "events.csv"])
def test_ids_above_2_53_stay_apart_when_one_is_written_with_a_fraction(tmp_path: Path, name: str) -> None:
    rows = [(BIG + 1, BIG + 1, 4, 100), (BIG, BIG, 5, 200), ("3.0", "17.000", 3, 300)]
    log = write_rows(tmp_path, name, rows)
    assert sorted(log.user_ids.tolist()) == [3, BIG, BIG + 1]
    assert sorted(log.item_ids.tolist()) == [17, BIG, BIG + 1]
    assert log.user_ids.dtype == np.int64
    assert triples(log) == [(3, 17, 3.0, 300), (BIG, BIG, 5.0, 200), (BIG + 1, BIG + 1, 4.0, 100)]


@pytest.mark.parametrize("name", ["u.data", "ratings.dat", "ratings.csv", "events.csv", "log.inter"])
def test_nanosecond_timestamps_keep_their_order(tmp_path: Path, name: str) -> None:
    ns = 1_700_000_000_000_000_000
    rows = [(7, 10, 4, ns + 1), (7, 11, 4, ns), (7, 12, 4, ns + 2), (8, 10, 4, "-5.0")]
    log = write_rows(tmp_path, name, rows)
    assert triples(log) == [
        (7, 11, 4.0, ns),
        (7, 10, 4.0, ns + 1),
        (7, 12, 4.0, ns + 2),
        (8, 10, 4.0, -5),
    ]


@pytest.mark.parametrize("name", ["u.data", "ratings.csv", "events.csv", "log.inter"])
def test_iso_timestamps_load_as_seconds(tmp_path: Path, name: str) -> None:
    rows = [(7, 10, 4, "2024-03-01T12:00:00Z"), (7, 11, 4, "2024-03-01 12:00:01"), (8, 10, 4, "1970-01-02")]
    log = write_rows(tmp_path, name, rows)
    assert triples(log) == [(7, 10, 4.0, 1_709_294_400), (7, 11, 4.0, 1_709_294_401), (8, 10, 4.0, 86_400)]


@pytest.mark.parametrize(
    ("name", "column"), [("u.data", "'timestamp'"), ("ratings.csv", "'timestamp'"), ("events.csv", "'when'")]
)
@pytest.mark.parametrize("value", ["1.5", "1e9", "yesterday", "2024-13-01"])
def test_a_time_column_of_neither_integers_nor_iso_dates_names_the_column(
    tmp_path: Path, name: str, column: str, value: str
) -> None:
    with pytest.raises(LogError, match=f"{column} must hold integer times .* or ISO-8601") as error:
        write_rows(tmp_path, name, [(7, 10, 4, 100), (8, 10, 4, value)])
    assert name in str(error.value) and value in str(error.value)


@pytest.mark.parametrize(("name", "column"), [("ratings.csv", "'userId'"), ("events.csv", "'who'")])
@pytest.mark.parametrize("value", ["1.5", "1e3", "inf"])
def test_an_id_that_is_a_number_but_no_written_integer_names_the_column(
    tmp_path: Path, name: str, column: str, value: str
) -> None:
    with pytest.raises(LogError, match=f"{column} must hold integers") as error:
        write_rows(tmp_path, name, [(7, 10, 4, 100), (value, 10, 4, 200)])
    assert name in str(error.value) and value in str(error.value)


def test_an_id_beyond_int64_is_refused_not_rounded(tmp_path: Path) -> None:
    with pytest.raises(LogError, match="'userId' has 1 values outside the int64 range"):
        write_rows(tmp_path, "ratings.csv", [(7, 10, 4, 100), (2**63, 10, 4, 200)])


def test_load_table_keeps_text_ids_as_tokens_exactly(tmp_path: Path) -> None:
    rows = [("alice", BIG + 1, 4, 100), ("3.0", BIG, 5, 200), ("3", "3.0", 3, 300)]
    log = write_rows(tmp_path, "events.csv", rows)
    assert sorted(log.user_ids.tolist()) == ["3", "3.0", "alice"]
    assert sorted(log.item_ids.tolist()) == [3, BIG, BIG + 1]


def test_a_time_column_mixing_integers_and_iso_dates_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LogError, match="'when' must hold integer times .* found a mix of both"):
        write_rows(tmp_path, "events.csv", [(7, 10, 4, 1_709_294_400), (8, 10, 4, "2024-03-01")])


def test_load_table_parquet_refuses_float_ids_from_2_53_and_reads_iso_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parquet keeps its columns' types: a float64 id column is refused from 2**53 on (pyarrow is
    optional, so the table pandas would read is handed over directly)."""
    path = write(tmp_path / "events.parquet", "")
    when = ["2024-03-01T12:00:00Z", "1970-01-02"]
    table = pd.DataFrame({"who": [7.0, 3.0], "what": [10, 20], "when": when})
    monkeypatch.setattr(pd, "read_parquet", lambda _: table)
    columns = {"user": "who", "item": "what", "timestamp": "when"}
    assert triples(load_table(path, columns)) == [(3, 20, 1.0, 86_400), (7, 10, 1.0, 1_709_294_400)]
    table["who"] = [float(BIG), 3.0]
    with pytest.raises(LogError, match="column 'user' has 1 values of magnitude 2\\*\\*53 or more"):
        load_table(path, columns)


PAIR = {"user": "who", "item": "what"}


@pytest.mark.parametrize(
    "name, text, load, timed",
    [
        ("u.data", "7\t10\t4\t100\n", load_ml100k_udata, True),
        ("ratings.dat", "7::10::4::100\n", load_ml1m_ratings, True),
        ("ratings.csv", "userId,movieId,rating,timestamp\n7,10,4,100\n", load_ratings_csv, True),
        (
            "timed.inter",
            "user_id:token\titem_id:token\ttimestamp:float\n7\t10\t100\n",
            load_recbole_inter,
            True,
        ),
        (
            "untimed.inter",
            "user_id:token\titem_id:token\trating:float\n7\t10\t4\n",
            load_recbole_inter,
            False,
        ),
        (
            "timed.csv",
            "who,what,when\n7,10,100\n",
            lambda p: load_table(p, {**PAIR, "timestamp": "when"}),
            True,
        ),
        ("untimed.csv", "who,what,when\n7,10,100\n", lambda p: load_table(p, PAIR), False),
    ],
)
def test_a_log_is_timed_exactly_when_its_file_has_a_time_column(
    tmp_path: Path, name: str, text: str, load, timed: bool
) -> None:
    assert load(write(tmp_path / name, text)).timed is timed


def test_parquet_without_a_time_column_is_untimed(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    pd.DataFrame({"who": [7, 3], "what": [10, 20], "when": [5, 6]}).to_parquet(tmp_path / "e.parquet")
    assert not load_table(tmp_path / "e.parquet", PAIR).timed
    assert load_table(tmp_path / "e.parquet", {**PAIR, "timestamp": "when"}).timed
