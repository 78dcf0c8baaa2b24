"""Feature tables: RecBole's four kinds encoded, every bad input named, rows aligned to a log with the
missing ones marked, and the tables part of the log's fingerprint."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recgym.data.features import FeatureTable
from recgym.data.interactions import InteractionLog, LogError
from recgym.models.fitted import log_fingerprint
from recgym.runs.checkpoint import CheckpointError
from recgym.world_cache import _load_log, _save_log


def items_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item": [10, 20, 30],
            "brand": ["b", "a", ""],
            "tags": ["x y", "", "y"],
            "price": [1.5, 2.0, 3.0],
            "shape": [[1.0, 2.0], [3.0], []],
        }
    )


def small_log() -> InteractionLog:
    frame = pd.DataFrame(
        {"user": [1, 1, 2], "item": [10, 20, 40], "rating": [4.0, 5.0, 3.0], "timestamp": [1, 2, 3]}
    )
    return InteractionLog.from_frame(frame, rating_range=(1.0, 5.0))


def test_each_kind_is_encoded_with_codes_padding_and_a_sorted_vocabulary() -> None:
    table = FeatureTable.from_frame(items_frame(), "item", {"tags": "token_seq"}, name="items")
    brand, tags, price, shape = (table.columns[name] for name in ("brand", "tags", "price", "shape"))
    assert (brand.kind, brand.vocabulary, brand.values.tolist()) == ("token", ("a", "b"), [2, 1, 0])
    assert tags.vocabulary == ("x", "y") and tags.values.tolist() == [[1, 2], [0, 0], [2, 0]]
    assert tags.lengths.tolist() == [2, 0, 1]
    assert price.kind == "float" and price.values.tolist() == [1.5, 2.0, 3.0]
    assert shape.kind == "float_seq" and shape.values.tolist() == [[1.0, 2.0], [3.0, 0.0], [0.0, 0.0]]
    assert table.ids.tolist() == [10, 20, 30] and table.present.all()
    assert "tags token_seq (2 values)" in table.describe()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="item"), "no id column 'item'"),
        (lambda f: f.assign(item=[10, 10, 30]), "repeats 1 ids (first 10)"),
        (lambda f: f.assign(item=[10, None, 30]), "1 empty ids"),
        (lambda f: f.assign(item=["10", " ", "30"]), "1 empty ids"),
        (lambda f: f.assign(price=[1.0, np.nan, 2.0]), "column 'price' (float) has 1 empty values"),
        (
            lambda f: f.assign(price=["1", "cheap", "2"]),
            "column 'price' (float) must hold numbers; found 'cheap'",
        ),
        (lambda f: f.assign(price=[1.0, np.inf, 2.0]), "column 'price' (float) must hold finite numbers"),
        (
            lambda f: f.assign(shape=["1 2", "3 a", ""]),
            "column 'shape' (float_seq) must hold numbers; found 'a'",
        ),
    ],
)
def test_each_bad_table_is_refused_naming_the_column(change, message) -> None:
    with pytest.raises(LogError) as error:
        FeatureTable.from_frame(change(items_frame()), "item", {"shape": "float_seq", "price": "float"})
    assert message in str(error.value)


def test_bad_kinds_and_repeated_columns_are_refused() -> None:
    with pytest.raises(LogError, match="kind 'tokn', none of token, token_seq, float, float_seq"):
        FeatureTable.from_frame(items_frame(), "item", {"brand": "tokn"})  # type: ignore[dict-item]
    with pytest.raises(LogError, match=r"kinds are given for columns \['colour'\]"):
        FeatureTable.from_frame(items_frame(), "item", {"colour": "token"})
    doubled = pd.concat([items_frame(), items_frame()[["price"]]], axis=1)
    with pytest.raises(LogError, match=r"columns \['price'\] appear more than once"):
        FeatureTable.from_frame(doubled, "item")


def test_rows_follow_the_log_and_the_ones_it_lacks_are_marked_missing_not_zero() -> None:
    table = FeatureTable.from_frame(items_frame(), "item", {"tags": "token_seq"})
    log = small_log().with_features(items=table)
    rows = log.item_feature_rows()
    assert rows.ids.tolist() == [10, 20, 40] and rows.present.tolist() == [True, True, False]
    assert rows.columns["brand"].values.tolist() == [2, 1, 0] and rows.columns["tags"].lengths.tolist() == [
        2,
        0,
        0,
    ]
    assert log.item_features.ids.tolist() == [10, 20, 30]  # item 30, never logged, is kept for cold start
    as_text = FeatureTable.from_frame(items_frame().assign(item=["10", "20", "30"]), "item")
    assert as_text.aligned(np.array([20, 10]), "items").present.all()


def test_a_table_keyed_by_other_ids_is_refused() -> None:
    table = FeatureTable.from_frame(items_frame().assign(item=["i10", "i20", "i30"]), "item")
    with pytest.raises(LogError, match="none of the log's 3 items has a row"):
        small_log().with_features(items=table)


def test_features_survive_likes_and_splits_and_enter_the_fingerprint() -> None:
    log, table = small_log(), FeatureTable.from_frame(items_frame(), "item")
    featured = log.with_features(items=table)
    assert featured.as_likes().item_features is table
    assert featured.with_frame(featured.frame.iloc[:1]).item_features is table
    assert log_fingerprint(log.with_features()) == log_fingerprint(log)
    changed = FeatureTable.from_frame(items_frame().assign(price=[1.5, 2.0, 3.5]), "item")
    prints = {
        log_fingerprint(log),
        log_fingerprint(featured),
        log_fingerprint(log.with_features(items=changed)),
    }
    assert len(prints) == 3


@pytest.mark.parametrize("ids", [[10, 20, 30], ["a", "b", "c"]])
def test_a_table_round_trips_through_tensors(ids) -> None:
    table = FeatureTable.from_frame(items_frame().assign(item=ids), "item", {"tags": "token_seq"})
    tensors, meta = table.to_tensors("items")
    again = FeatureTable.from_tensors("items", tensors, meta)
    assert again.fingerprint() == table.fingerprint() and again.ids.tolist() == ids


def test_the_logs_cache_keeps_the_features_and_names_a_damaged_entry(tmp_path) -> None:
    log = small_log().with_features(items=FeatureTable.from_frame(items_frame(), "item"))
    _save_log(tmp_path / "logs", log)
    assert log_fingerprint(_load_log(tmp_path / "logs")) == log_fingerprint(log)
    meta_path = tmp_path / "logs" / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["item_features"]["columns"][0]["vocabulary"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="feature tables are damaged"):
        _load_log(tmp_path / "logs")
