"""Coat loader on tiny hand-written matrices: indices match the matrix, bad files fail loudly."""

from pathlib import Path

import numpy as np
import pytest

from recgym.data.coat import load_coat
from recgym.data.interactions import LogError

# 4 users x 5 items; item 3 has no training rating and must keep its index.
TRAIN = """\
0 3 0 0 5
1 0 0 0 0
0 0 2 0 4
0 5 0 0 0
"""
TEST = """\
4 0 0 1 0
0 0 3 0 0
0 0 0 5 0
2 0 0 0 0
"""


def write_coat(folder: Path, train: str = TRAIN, test: str = TEST) -> Path:
    (folder / "train.ascii").write_text(train)
    (folder / "test.ascii").write_text(test)
    return folder


def test_train_log_keeps_matrix_indices(tmp_path: Path) -> None:
    train = load_coat(write_coat(tmp_path)).train
    assert (train.n_users, train.n_items) == (4, 5)
    np.testing.assert_array_equal(train.user_ids, np.arange(4))
    np.testing.assert_array_equal(train.item_ids, np.arange(5))
    rows = list(train.frame[["user", "item", "rating"]].itertuples(index=False, name=None))
    assert rows == [(0, 1, 3.0), (0, 4, 5.0), (1, 0, 1.0), (2, 2, 2.0), (2, 4, 4.0), (3, 1, 5.0)]
    assert (train.frame["timestamp"] == 0).all() and not train.timed  # Coat records no times
    assert train.feedback == "rating"
    assert train.rating_range == (1.0, 5.0)
    assert train.like_threshold == 4.0
    assert train.name == "coat"
    assert [str(t) for t in train.frame.dtypes] == ["int64", "int64", "float64", "int64"]


def test_test_frame_uses_the_same_indices(tmp_path: Path) -> None:
    test = load_coat(write_coat(tmp_path)).test
    assert list(test.columns) == ["user", "item", "rating"]
    rows = list(test.itertuples(index=False, name=None))
    assert rows == [(0, 0, 4.0), (0, 3, 1.0), (1, 2, 3.0), (2, 3, 5.0), (3, 0, 2.0)]
    assert [str(t) for t in test.dtypes] == ["int64", "int64", "float64"]


def test_missing_file(tmp_path: Path) -> None:
    (tmp_path / "train.ascii").write_text(TRAIN)
    with pytest.raises(FileNotFoundError, match="test.ascii"):
        load_coat(tmp_path)
    with pytest.raises(FileNotFoundError, match="train.ascii"):
        load_coat(tmp_path / "nowhere")


def test_shapes_must_match(tmp_path: Path) -> None:
    narrow = "\n".join(" ".join(line.split()[:4]) for line in TEST.splitlines())
    with pytest.raises(LogError, match=r"test\.ascii: 4 users x 4 items.*train\.ascii has 4 x 5"):
        load_coat(write_coat(tmp_path, test=narrow))


@pytest.mark.parametrize("value", ["6", "-1", "2.5", "nan"])
def test_ratings_outside_0_to_5(tmp_path: Path, value: str) -> None:
    bad = TRAIN.replace("0 0 2 0 4", f"0 0 2 {value} 4")
    message = r"train\.ascii: 1 entries are not integer ratings 0-5.*user 2, item 3"
    with pytest.raises(LogError, match=message):
        load_coat(write_coat(tmp_path, train=bad))


@pytest.mark.parametrize(
    ("train", "message"),
    [
        ("", "the file is empty"),
        ("0 1 2\n3 4\n", "not a whitespace-separated numeric matrix"),
        ("0 x 2\n", "not a whitespace-separated numeric matrix"),
        ("0 0 0 0 0\n" * 4, "no ratings"),
    ],
)
def test_malformed_train(tmp_path: Path, train: str, message: str) -> None:
    with pytest.raises(LogError, match=rf"train\.ascii: {message}"):
        load_coat(write_coat(tmp_path, train=train))
