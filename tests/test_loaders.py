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
    assert log.feedback == "click"
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
