"""Fitting, calibrating and caching a user model; the log-fitted simulator built on it."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

from recgym.cache_folder import cache_folder
from recgym.data import InteractionLog, load_table
from recgym.data.synthetic import LoggingConfig, generate_logs
from recgym.models import fitted as fitted_module
from recgym.models.calibration import fit_platt, fit_rating_map
from recgym.models.fitted import (
    USER_MODEL_FORMAT,
    FittedUserModel,
    UserModelConfig,
    cache_key,
    fit_user_model,
    log_fingerprint,
)
from recgym.models.mf import MFConfig
from recgym.models.training import TrainConfig
from recgym.random import RowStreams
from recgym.runs.checkpoint import meta_checksum
from recgym.simulators.log_fitted import LogFittedSimulator
from recgym.simulators.world import GroundTruthConfig

TINY_LOGS = LoggingConfig(
    world=GroundTruthConfig(n_users=30, n_items=200, n_topics=3, dim=4), sessions_per_user=6
)
FAST = UserModelConfig(train=TrainConfig(epochs=2))


def test_platt_scaling_recovers_a_known_slope_and_intercept() -> None:
    generator = torch.Generator().manual_seed(0)
    raw = torch.randn(20_000, generator=generator) * 2
    labels = (torch.rand(20_000, generator=generator) < torch.sigmoid(0.5 * raw - 1.0)).float()
    slope, intercept = fit_platt(raw, labels)
    assert slope == pytest.approx(0.5, abs=0.05)
    assert intercept == pytest.approx(-1.0, abs=0.05)


def test_rating_map_is_least_squares_and_flat_for_constant_logits() -> None:
    raw = torch.tensor([0.0, 1.0, 2.0])
    assert fit_rating_map(raw, torch.tensor([1.0, 3.0, 5.0])) == pytest.approx((2.0, 1.0))
    assert fit_rating_map(torch.zeros(3), torch.tensor([2.0, 4.0, 3.0])) == pytest.approx((0.0, 3.0))


def test_calibrated_click_rate_matches_the_logs() -> None:
    log, _ = generate_logs(TINY_LOGS)
    fitted = fit_user_model(log, FAST, progress=False)
    frame = log.frame
    probability = torch.sigmoid(
        fitted.click_logits(torch.tensor(frame["user"].to_numpy()))[
            torch.arange(len(frame)), torch.tensor(frame["item"].to_numpy())
        ]
    )
    assert float(probability.mean()) == pytest.approx(frame["rating"].mean(), abs=0.05)


def test_cache_hit_returns_the_same_model_and_corruption_refits(tmp_path) -> None:
    log, _ = generate_logs(TINY_LOGS)
    first = fit_user_model(log, FAST, cache_dir=tmp_path, progress=False)
    second = fit_user_model(log, FAST, cache_dir=tmp_path, progress=False)
    for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True):
        assert torch.equal(a, b)
    assert second.calibration == first.calibration
    weights = tmp_path / cache_key(log, FAST) / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.warns(UserWarning, match="checksum"):
        third = fit_user_model(log, FAST, cache_dir=tmp_path, progress=False)
    assert third.metrics == first.metrics


def test_cache_key_depends_on_config_and_data() -> None:
    log, _ = generate_logs(TINY_LOGS)
    other_log, _ = generate_logs(LoggingConfig(world=TINY_LOGS.world, sessions_per_user=6, seed=1))
    assert cache_key(log, FAST) != cache_key(log, UserModelConfig(train=TrainConfig(epochs=3)))
    assert cache_key(log, FAST) != cache_key(other_log, FAST)


def test_the_fingerprint_tells_apart_logs_that_differ_beyond_float_precision() -> None:
    """Nanosecond times and ids past 2**53 differ by 1, which a float64 round trip would erase."""
    base = 1_700_000_000_000_000_000
    frame = pd.DataFrame({"user": [0, 0, 1], "item": [0, 1, 0], "rating": [1.0] * 3, "timestamp": [base] * 3})
    later = frame.assign(timestamp=[base, base + 1, base])
    assert log_fingerprint(InteractionLog.from_frame(frame)) != log_fingerprint(
        InteractionLog.from_frame(later)
    )
    big = frame.assign(user=[2**53, 2**53, 2**53 + 2])
    other = frame.assign(user=[2**53, 2**53, 2**53 + 1])
    assert log_fingerprint(InteractionLog.from_frame(big)) != log_fingerprint(
        InteractionLog.from_frame(other)
    )


def test_log_fitted_simulator_follows_the_model_and_reward_kinds() -> None:
    log, _ = generate_logs(TINY_LOGS)
    fitted = fit_user_model(log, FAST, progress=False)
    simulator = LogFittedSimulator(fitted)
    users = torch.arange(5)
    state = simulator.initial_state(users, RowStreams.from_seed(0, 5))
    items = torch.tensor([0, 1, 2, 3, 4])
    expected = torch.sigmoid(fitted.click_logits(users)[torch.arange(5), items])
    assert torch.allclose(simulator.click_probability(state, items), expected, atol=1e-5)
    with pytest.raises(ValueError, match="reward"):
        LogFittedSimulator(fitted, reward="watch-time")


# --- a cache that cannot cost a run its fit ---------------------------------------------------------

CACHE_LOGS = LoggingConfig(
    world=GroundTruthConfig(n_users=12, n_items=200, n_topics=2, dim=3), sessions_per_user=3
)
CACHED = UserModelConfig(MFConfig(dim=4), train=TrainConfig(epochs=1))


@pytest.fixture(scope="module")
def small_log():
    return generate_logs(CACHE_LOGS)[0]


def fit_quietly(log, cache_dir, config: UserModelConfig = CACHED) -> FittedUserModel:
    """fit_user_model, failing on any warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fit_user_model(log, config, cache_dir=cache_dir, progress=False)


def assert_same_model(a: FittedUserModel, b: FittedUserModel) -> None:
    for x, y in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(x, y)
    assert a.calibration == b.calibration and a.metrics == b.metrics


def test_meta_json_that_is_not_utf8_is_refitted_with_a_warning(tmp_path, small_log) -> None:
    first = fit_quietly(small_log, tmp_path)
    meta = tmp_path / cache_key(small_log, CACHED) / "meta.json"
    meta.write_bytes(meta.read_bytes().replace(b'"model"', b'"mo\xffdel"'))
    with pytest.warns(
        UserWarning, match=f"refitting: .*{re.escape(str(meta.parent))}.*meta.json is not UTF-8"
    ):
        second = fit_user_model(small_log, CACHED, cache_dir=tmp_path, progress=False)
    assert_same_model(first, second)
    assert_same_model(first, fit_quietly(small_log, tmp_path))  # the entry was repaired


def drop(path: str):
    def edit(meta: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            meta = meta[key]
        del meta[last]

    return edit


def rename_fit_report(meta: dict) -> None:
    meta["report"] = meta.pop("fit_report")


def set_field(path: str, value):
    def edit(meta: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            meta = meta[key]
        meta[last] = value

    return edit


OTHER_VERSIONS = {
    "no-calibration": (drop("calibration"), "has no field 'calibration'"),
    "no-metrics": (drop("metrics"), "has no field 'metrics'"),
    "no-rating-range": (drop("calibration.rating_range"), "meta.calibration has no field 'rating_range'"),
    "renamed-fit-report": (rename_fit_report, "has no field 'fit_report'"),
    "no-format": (drop("format"), "format None"),
    "format-1": (set_field("format", "recgym-user-model/1"), "format 'recgym-user-model/1'"),
    "slope-as-text": (set_field("calibration.slope", "1.0"), "calibration.slope must be a number"),
    "range-of-three": (set_field("calibration.rating_range", [0, 1, 2]), "must hold 2 values"),
    "metrics-as-list": (set_field("metrics", []), "meta.metrics must be an object"),
    "ndcg-as-bool": (set_field("metrics.full.ndcg@10", True), "full.ndcg@10 must be a number"),
    "no-split": (drop("metrics.split"), "meta.metrics has no field 'split'"),
    "other-split": (set_field("metrics.split", "random"), "fitted with split 'random', not 'leave-last-out'"),
    "untested": (set_field("metrics.split", "none"), "meta.metrics has no field 'test'"),
}


@pytest.mark.parametrize("edit, problem", OTHER_VERSIONS.values(), ids=OTHER_VERSIONS.keys())
@pytest.mark.parametrize("rehash", [True, False], ids=["consistent", "edited"])
def test_an_entry_of_another_layout_is_refitted_and_overwritten(
    tmp_path, small_log, edit, problem: str, rehash: bool
) -> None:
    first = fit_quietly(small_log, tmp_path)
    path = tmp_path / cache_key(small_log, CACHED) / "meta.json"
    meta = json.loads(path.read_text())
    edit(meta)
    if rehash:  # as another version of recgym would have written it: its checksums hold
        meta["meta_sha256"] = meta_checksum(meta)
    path.write_text(json.dumps(meta))
    with pytest.warns(
        UserWarning, match=re.escape(problem) if rehash else "meta.json does not match its checksum"
    ):
        second = fit_user_model(small_log, CACHED, cache_dir=tmp_path, progress=False)
    assert_same_model(first, second)
    assert json.loads(path.read_text())["format"] == USER_MODEL_FORMAT
    assert_same_model(first, fit_quietly(small_log, tmp_path))


def test_a_changed_calibration_value_is_caught(tmp_path, small_log) -> None:
    first = fit_quietly(small_log, tmp_path)
    path = tmp_path / cache_key(small_log, CACHED) / "meta.json"
    meta = json.loads(path.read_text())
    meta["calibration"]["slope"] += 1.0  # still a valid layout: only the checksum sees it
    path.write_text(json.dumps(meta, indent=2))
    with pytest.warns(UserWarning, match="meta.json does not match its checksum"):
        second = fit_user_model(small_log, CACHED, cache_dir=tmp_path, progress=False)
    assert second.calibration == first.calibration


def test_a_cache_dir_that_is_a_file_stops_before_the_fit(tmp_path, small_log, monkeypatch) -> None:
    cache = tmp_path / "cache"
    cache.write_text("")
    monkeypatch.setattr(fitted_module, "train_user_model", lambda *a, **k: pytest.fail("fitted anyway"))
    with pytest.raises(
        ValueError, match=f"cache folder {re.escape(str(cache))} \\(from the cache_dir argument\\)"
    ):
        fit_user_model(small_log, CACHED, cache_dir=cache, progress=False)
    with pytest.raises(ValueError, match="is a file"):
        fit_user_model(small_log, CACHED, cache_dir=cache / "below", progress=False)


@pytest.mark.parametrize(
    "value, problem", [("file", "RECGYM_CACHE environment variable"), ("", "RECGYM_CACHE is set but empty")]
)
def test_a_bad_recgym_cache_is_named(tmp_path, monkeypatch, value: str, problem: str) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("RECGYM_CACHE", str(tmp_path / value) if value else "")
    with pytest.raises(ValueError, match=problem):
        cache_folder()
    monkeypatch.setenv("RECGYM_CACHE", str(tmp_path / "cache"))
    assert cache_folder() == tmp_path / "cache"


def test_a_default_cache_that_is_a_file_is_named(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("RECGYM_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_folder() == tmp_path / ".cache" / "recgym"
    (tmp_path / ".cache").write_text("")
    with pytest.raises(ValueError, match="from the default, as RECGYM_CACHE is not set.*is a file"):
        cache_folder()


def test_a_full_disk_is_one_warning_and_leaves_no_entry(tmp_path, small_log, monkeypatch) -> None:
    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.warns(UserWarning, match="not cached: cannot write .*No space left") as record:
        fitted = fit_user_model(small_log, CACHED, cache_dir=tmp_path, progress=False)
    assert len(record) == 1 and fitted.n_items == small_log.n_items
    assert os.listdir(tmp_path) == []  # no entry, empty or partial, and no temporary folder
    monkeypatch.undo()
    assert_same_model(fitted, fit_user_model(small_log, CACHED, cache_dir=tmp_path, progress=False))
    assert_same_model(fitted, fit_quietly(small_log, tmp_path))


def test_a_read_only_cache_is_one_warning_before_the_fit(tmp_path, small_log, monkeypatch) -> None:
    real_open, events = os.open, []

    def read_only_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    def read_only_mkdir(path, *args, **kwargs):
        if os.path.isdir(path):
            raise FileExistsError(errno.EEXIST, "File exists", str(path))
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    def fit(*args, **kwargs):
        events.append("fit")
        return real_fit(*args, **kwargs)

    real_fit = fitted_module.train_user_model
    monkeypatch.setattr(fitted_module, "train_user_model", fit)
    monkeypatch.setattr(os, "open", read_only_open)
    monkeypatch.setattr(os, "mkdir", read_only_mkdir)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fitted = fit_user_model(small_log, CACHED, cache_dir=tmp_path, progress=False)
    monkeypatch.undo()
    assert len(record) == 1, [str(w.message) for w in record]
    assert re.fullmatch(
        f"cache folder {re.escape(str(tmp_path))} \\(from the cache_dir argument\\) cannot be written "
        r"\(\[Errno 30\] Read-only file system: .*\); going on without caching",
        str(record[0].message),
    )
    assert events == ["fit"] and fitted.n_users == small_log.n_users and os.listdir(tmp_path) == []


def test_cache_entries_follow_the_umask(tmp_path, small_log) -> None:
    old = os.umask(0o022)
    try:
        fit_quietly(small_log, tmp_path)
    finally:
        os.umask(old)
    entry = tmp_path / cache_key(small_log, CACHED)
    assert entry.stat().st_mode & 0o777 == 0o755
    assert {(entry / name).stat().st_mode & 0o777 for name in ("meta.json", "weights.pt")} == {0o644}


# --- splits: which rows are held out, and none at all ------------------------------------------------

SPLIT_FIT = UserModelConfig(MFConfig(dim=4), train=TrainConfig(epochs=1))


def untimed_log(tmp_path) -> InteractionLog:
    """A click file without times, listed by user then item: each user's last rows are their highest
    item ids, so reading its order as time would hold out each user's rarest items."""
    lines = [f"{user},{user + 13 * j}" for user in range(30) for j in range(10)]
    (tmp_path / "clicks.csv").write_text("user,item\n" + "\n".join(lines) + "\n")
    return load_table(tmp_path / "clicks.csv", {"user": "user", "item": "item"})


class Recorded:
    """Wraps a function of `recgym.models.fitted`, keeping the arguments of every call."""

    def __init__(self, monkeypatch, name: str) -> None:
        self.calls: list[tuple] = []  # the positional arguments of each call
        real = getattr(fitted_module, name)
        monkeypatch.setattr(fitted_module, name, lambda *a, **k: self.calls.append(a) or real(*a, **k))


def test_an_untimed_log_gets_a_random_split_with_a_warning_not_its_highest_items(
    tmp_path, monkeypatch
) -> None:
    log = untimed_log(tmp_path)
    ranked = Recorded(monkeypatch, "evaluate_ranking")
    with pytest.warns(
        UserWarning, match="clicks.csv has no time column.*split 'random'.*UserModelConfig.split"
    ):
        fitted = fit_user_model(log, SPLIT_FIT, progress=False)
    assert fitted.metrics["split"] == "random" and fitted.metrics["n_users"] == 30
    (_, _, test), *_ = ranked.calls
    highest = log.frame.groupby("user")["item"].max()
    assert (test.frame.set_index("user")["item"] == highest).mean() < 0.3  # leave-last-out: every user
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chosen = fit_user_model(log, dataclasses.replace(SPLIT_FIT, split="random"), progress=False)
    assert chosen.metrics == fitted.metrics  # seeded by train.seed: the same split and the same fit
    assert cache_key(log, SPLIT_FIT) == cache_key(log, dataclasses.replace(SPLIT_FIT, split="random"))
    with pytest.warns(UserWarning, match="has no time column"):
        fit_user_model(log, SPLIT_FIT, cache_dir=tmp_path / "cache", progress=False)
    with pytest.warns(UserWarning, match="has no time column"):  # a cached fit says so too
        assert (
            fit_user_model(log, SPLIT_FIT, cache_dir=tmp_path / "cache", progress=False).metrics
            == fitted.metrics
        )


def test_the_random_split_is_seeded_by_the_train_seed(tmp_path, monkeypatch) -> None:
    log = untimed_log(tmp_path)
    ranked = Recorded(monkeypatch, "evaluate_ranking")
    for seed in (0, 0, 1):
        config = dataclasses.replace(SPLIT_FIT, split="random", train=TrainConfig(epochs=1, seed=seed))
        fit_user_model(log, config, progress=False)
    first, again, other = (pairs(test) for _, _, test in ranked.calls)
    assert first == again != other


def test_auto_on_a_timed_log_is_leave_last_out(small_log) -> None:
    explicit = dataclasses.replace(CACHED, split="leave-last-out")
    assert cache_key(small_log, CACHED) == cache_key(small_log, explicit)
    assert cache_key(small_log, CACHED) != cache_key(small_log, dataclasses.replace(CACHED, split="random"))
    with pytest.raises(ValueError, match="split must be one of .*'none'.*got 'last'"):
        UserModelConfig(split="last")  # type: ignore[arg-type]


@pytest.mark.parametrize("positives_only", [False, True], ids=["impressions", "positives-only"])
def test_split_none_trains_on_every_row_and_reports_no_test(
    tmp_path, monkeypatch, small_log, positives_only
) -> None:
    log = small_log.with_frame(small_log.positives()) if positives_only else small_log
    config = dataclasses.replace(CACHED, split="none")
    trained = Recorded(monkeypatch, "fit")
    fitted = fit_quietly(log, tmp_path, config)
    ((_, train, valid, _),) = trained.calls
    assert train.frame.equals(log.frame)  # every row, every positive
    assert sorted(valid.frame["user"]) == sorted(log.positives()["user"].unique())
    assert pairs(valid) <= pairs(log)
    assert fitted.metrics == {"split": "none", "test": None}
    assert np.isfinite([fitted.calibration.slope, fitted.calibration.intercept]).all()
    assert_same_model(fitted, fit_quietly(log, tmp_path, config))  # cached and loaded back
    assert len(trained.calls) == 1
    path = tmp_path / cache_key(log, config) / "meta.json"
    meta = json.loads(path.read_text())
    meta["metrics"]["test"] = {}
    meta["meta_sha256"] = meta_checksum(meta)
    path.write_text(json.dumps(meta))
    with pytest.warns(UserWarning, match="meta.metrics.test must be null"):
        fit_user_model(log, config, cache_dir=tmp_path, progress=False)


def pairs(log: InteractionLog) -> set[tuple[int, int]]:
    """(user, item) of every row."""
    return set(zip(log.frame["user"].tolist(), log.frame["item"].tolist(), strict=True))
