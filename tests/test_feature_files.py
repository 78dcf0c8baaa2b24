"""Feature files as each dataset ships them, read into typed tables (tiny copies written here), the
sources attaching them to their logs, and a malformed file refused by name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recgym.data.coat import load_coat
from recgym.data.feature_files import (
    movielens_features,
    read_coat_features,
    read_feature_table,
    read_recbole_features,
    title_words,
)
from recgym.data.interactions import LogError
from recgym.data.sources import MovieLensLogs, TableLogs


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="latin-1")
    return folder / name


def test_titles_become_lower_case_words_and_a_year() -> None:
    assert title_words("Toy Story (1995)") == (["toy", "story"], "1995")
    assert title_words("Schindler's List") == (["schindler's", "list"], "")


def test_ml100k_grouplens_files_give_demographics_titles_years_and_genres(tmp_path) -> None:
    write(tmp_path, "u.data", "1\t10\t4\t100\n2\t20\t3\t200\n")
    write(tmp_path, "u.user", "1|24|M|technician|85711\n2|53|F|other|94043\n")
    write(tmp_path, "u.genre", "unknown|0\nAction|1\nComedy|2\n")
    write(tmp_path, "u.item", "10|Toy Story (1995)|01-Jan-1995||url|0|0|1\n20|Heat (1995)|||url|0|1|1\n")
    users, items = movielens_features(tmp_path)
    assert users.columns["age"].values.tolist() == [24.0, 53.0]
    assert users.columns["occupation"].vocabulary == ("other", "technician")
    assert items.columns["genres"].vocabulary == ("Action", "Comedy")
    assert items.columns["genres"].lengths.tolist() == [1, 2]
    assert items.columns["release_year"].values.tolist() == [1, 0]  # Heat has no date: "no value"
    log = MovieLensLogs(str(tmp_path)).read()
    assert log.user_features is not None and log.item_feature_rows().present.all()
    assert MovieLensLogs(str(tmp_path), features=False).read().item_features is None


def test_ml1m_and_ml_latest_files(tmp_path) -> None:
    one = tmp_path / "ml-1m"
    write(one, "ratings.dat", "1::10::4::100\n")
    write(one, "users.dat", "1::F::1::10::48067\n")
    write(one, "movies.dat", "10::Toy Story (1995)::Animation|Comedy\n")
    users, items = movielens_features(one)
    assert users.columns["gender"].vocabulary == ("F",) and items.columns["title"].vocabulary == (
        "story",
        "toy",
    )
    latest = tmp_path / "latest"
    write(latest, "ratings.csv", "userId,movieId,rating,timestamp\n1,10,4.0,100\n")
    write(
        latest,
        "movies.csv",
        'movieId,title,genres\n10,"Heat, The (1995)",Action\n20,Up (2009),(no genres listed)\n',
    )
    write(latest, "tags.csv", "userId,movieId,tag,timestamp\n1,10,Classic,5\n2,10,classic,6\n2,10,slow,7\n")
    users, items = movielens_features(latest)
    assert users is None
    tags = items.columns["tags"]
    assert tags.vocabulary == ("classic", "slow") and tags.lengths.tolist() == [2, 0]
    assert items.columns["genres"].lengths.tolist() == [1, 0]
    write(latest, "tags.csv", "userId,movieId,tag,timestamp\n1,99,odd,5\n")
    with pytest.raises(LogError, match="tags for 1 movies movies.csv does not list"):
        movielens_features(latest)


def test_recbole_atomic_files_keep_their_kinds_and_a_bad_kind_is_named(tmp_path) -> None:
    write(tmp_path, "d.inter", "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t7\t4\t100\n")
    write(tmp_path, "d.user", "user_id:token\tage:float\tgender:token\n1\t30\tF\n2\t40\tM\n")
    write(tmp_path, "d.item", "item_id:token\tclass:token_seq\n7\tAction Comedy\n")
    users, items = movielens_features(tmp_path / "d.inter")
    assert users.columns["age"].kind == "float" and items.columns["class"].lengths.tolist() == [2]
    write(tmp_path, "d.item", "item_id:token\tclass:tokens\n7\tAction\n")
    with pytest.raises(LogError, match=r"header fields \['class:tokens'\] have no kind"):
        read_recbole_features(tmp_path / "d.item")


def test_coat_one_hot_attributes_become_tokens(tmp_path) -> None:
    features = tmp_path / "user_item_features"
    write(features, "user_features_map.txt", "gender:men\ngender:women\nage:young\n")
    write(features, "user_features.ascii", "1 0 1\n0 1 0\n")
    write(features, "item_features_map.txt", "color:red\ncolor:blue\n")
    write(features, "item_features.ascii", "1 0\n0 1\n0 0\n")
    users, items = read_coat_features(tmp_path)
    assert users.columns["age"].values.tolist() == [1, 0]
    assert items.columns["color"].values.tolist() == [2, 1, 0]
    write(tmp_path, "train.ascii", "1 0 2\n0 3 0\n")
    write(tmp_path, "test.ascii", "1 0 2\n0 3 0\n")
    assert load_coat(tmp_path).train.user_feature_rows().columns["gender"].vocabulary == ("men", "women")
    write(features, "item_features.ascii", "1 1\n0 1\n0 0\n")
    with pytest.raises(LogError, match="line 1 has several values of 'color'"):
        read_coat_features(tmp_path)


def test_any_table_of_features_from_python_and_from_the_table_source(tmp_path) -> None:
    write(tmp_path, "log.csv", "uid,iid,stars,t\n1,10,4,100\n1,20,5,200\n2,10,3,300\n")
    write(tmp_path, "items.csv", "iid,genres,price,code\n10,a|b,1.5,007\n20,b,2.0,7\n")
    table = read_feature_table(tmp_path / "items.csv", "iid", {"genres": "token_seq"}, separator="|")
    assert table.columns["genres"].vocabulary == ("a", "b") and table.columns["price"].kind == "float"
    source = TableLogs(
        str(tmp_path / "log.csv"),
        user="uid",
        item="iid",
        rating="stars",
        time="t",
        item_features=str(tmp_path / "items.csv"),
        feature_kinds=("genres:token_seq", "code:token"),
    )
    rows = source.read().item_feature_rows()
    assert rows.columns["code"].vocabulary == ("007", "7")  # read as text: 007 and 7 stay apart
    assert np.array_equal(rows.columns["genres"].lengths, [2, 1])
    with pytest.raises(LogError, match="feature kind 'genres' must be column:kind"):
        TableLogs(str(tmp_path / "log.csv"), user="uid", item="iid", feature_kinds=("genres",)).read()


def test_a_parquet_table_keeps_its_types_and_its_lists(tmp_path) -> None:
    frame = pd.DataFrame(
        {"iid": [10, 20], "tags": [["a", "b"], []], "price": [1.0, 2.5], "brand": ["x", "y"]}
    )
    frame.to_parquet(tmp_path / "items.parquet")
    table = read_feature_table(tmp_path / "items.parquet", "iid")
    kinds = {name: column.kind for name, column in table.columns.items()}
    assert kinds == {"tags": "token_seq", "price": "float", "brand": "token"}
    assert table.ids.tolist() == [10, 20] and table.columns["tags"].lengths.tolist() == [2, 0]
