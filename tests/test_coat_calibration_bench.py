"""bench/coat_calibration.py on a tiny Coat-like dataset: the likes log keeps every index, the baseline
and per-user AUC match hand-computed values, and `main` writes a row for every (model, target,
calibration) and the figure."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from bench_scripts import load_bench

from recgym.data.coat import load_coat

N_USERS, N_ITEMS = 20, 120  # the fit's sampled ranking needs 99 unseen items per user


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench("coat_calibration")


def write_coat(folder: Path, seed: int = 0) -> Path:
    """Train: 13 self-selected ratings per user; test: 8 random ones. User 0 likes nothing in train, and
    the last item is rated by everyone in train but liked by no one: both must keep their indices."""
    rng = np.random.default_rng(seed)
    train = np.zeros((N_USERS, N_ITEMS), dtype=np.int64)
    test = np.zeros((N_USERS, N_ITEMS), dtype=np.int64)
    for user in range(N_USERS):
        items = rng.choice(N_ITEMS - 1, size=20, replace=False)
        train[user, items[:12]] = rng.integers(1, 6, size=12)
        test[user, items[12:]] = rng.integers(1, 6, size=8)
    train[0] = np.minimum(train[0], 3)
    train[:, -1] = rng.integers(1, 4, size=N_USERS)
    for name, matrix in (("train.ascii", train), ("test.ascii", test)):
        (folder / name).write_text("\n".join(" ".join(map(str, row)) for row in matrix) + "\n")
    return folder


def test_likes_log_keeps_every_index(bench: ModuleType, tmp_path: Path) -> None:
    train = load_coat(write_coat(tmp_path)).train
    chosen, likes = bench.training_log(train, "chosen"), bench.training_log(train, "likes")
    assert chosen is train
    assert (likes.n_users, likes.n_items) == (chosen.n_users, chosen.n_items) == (N_USERS, N_ITEMS)
    np.testing.assert_array_equal(likes.user_ids, chosen.user_ids)
    np.testing.assert_array_equal(likes.item_ids, chosen.item_ids)
    for column in ("user", "item", "timestamp"):
        np.testing.assert_array_equal(likes.frame[column], chosen.frame[column])
    np.testing.assert_array_equal(likes.frame["rating"], (chosen.frame["rating"] >= 4).astype(float))
    assert (likes.feedback, likes.rating_range, likes.name) == ("click", (0.0, 1.0), "coat-likes")
    assert likes.has_explicit_negatives
    positives = likes.positives()
    assert 0 not in set(positives["user"]) and (likes.frame["user"] == 0).sum() == 13
    assert N_ITEMS - 1 not in set(positives["item"]) and (likes.frame["item"] == N_ITEMS - 1).sum() == N_USERS


def test_like_rate_logits_by_hand(bench: ModuleType, tmp_path: Path) -> None:
    # 2 users x 3 items; likes: user 0 one of two ratings, user 1 both; item 0 both, item 1 none.
    (tmp_path / "train.ascii").write_text("5 2 0\n4 0 5\n")
    (tmp_path / "test.ascii").write_text("0 0 1\n0 3 0\n")
    train = load_coat(tmp_path).train
    half = bench.Half(users=torch.tensor([0, 1]), items=torch.tensor([2, 1]), likes=np.array([0, 1]))
    g = 3 / 4
    user = [(1 + g) / 3, (2 + g) / 3]  # (likes + 1 * g) / (ratings + 1)
    item = [(2 + g) / 3, (0 + g) / 2, (1 + g) / 2]
    expected = [logit(user[0]) + logit(item[2]) - logit(g), logit(user[1]) + logit(item[1]) - logit(g)]
    np.testing.assert_allclose(bench.like_rate_logits(train, half, smoothing=1.0).numpy(), expected)


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_per_user_auc_by_hand(bench: ModuleType) -> None:
    p = np.array([0.9, 0.5, 0.95, 0.2, 0.1, 0.3])
    likes = np.array([1, 0, 0, 1, 0, 1])
    users = np.array([0, 0, 0, 1, 1, 2])  # user 0: AUC 0.5, user 1: 1.0, user 2: one class, skipped
    assert bench.per_user_auc(p, likes, users) == (0.75, 2)


def test_main_rows_for_every_model_target_and_calibration(bench: ModuleType, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = bench.Args(
        path=str(write_coat(tmp_path)),
        out=str(tmp_path / "coat.json"),
        figure=str(tmp_path / "coat.png"),
        models=("mf",),
        epochs=2,
        cache_dir=str(cache),
    )
    bench.main(args)
    rows = json.loads((tmp_path / "coat.json").read_text())["rows"]
    keys = {(row["model"], row["target"], row["calibration"]) for row in rows}
    assert len(keys) == len(rows) == 1 + 3 * len(bench.VARIANTS)
    assert ("base-rate", "none", "constant") in keys
    for model, target in (("mf", "chosen"), ("mf", "likes"), (bench.BASELINE, "likes")):
        assert {(model, target, variant) for variant in bench.VARIANTS} <= keys
    for row in rows:
        assert 0.0 <= row["auc"] <= 1.0 and row["n_auc_users"] > 0 and 0.0 <= row["user_auc"] <= 1.0
    assert (tmp_path / "coat.png").read_bytes().startswith(b"\x89PNG")
    fitted = [json.loads(meta.read_text()) for meta in cache.glob("*/meta.json")]
    assert {(m["data"]["name"], m["n_users"], m["n_items"]) for m in fitted} == {
        ("coat", N_USERS, N_ITEMS),
        ("coat-likes", N_USERS, N_ITEMS),
    }
