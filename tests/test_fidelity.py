"""The fidelity report: its measures on known inputs, and experiments.fidelity end to end on tiny data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recgym.data.log_sessions import split_sessions
from recgym.data.sources import MovieLensLogs, SyntheticLogs
from recgym.data.synthetic import LoggingConfig, generate_logs
from recgym.experiments.fidelity import Args, main
from recgym.fidelity import SessionSample, compare_samples, gini, same_genre_rate, truth_errors
from recgym.models.fitted import UserModelConfig
from recgym.models.training import TrainConfig
from recgym.simulators.world import GroundTruthConfig


def test_gini_is_zero_for_equal_counts_and_near_one_when_one_item_takes_all() -> None:
    assert gini(np.array([5, 5, 5, 5])) == pytest.approx(0.0)
    assert gini(np.array([0] * 99 + [10])) == pytest.approx(0.99)
    assert gini(np.zeros(3)) == 0.0


def test_same_genre_rate_counts_consecutive_clicks_within_sessions_only() -> None:
    genres = np.array([0, 0, 1])
    sample = SessionSample(
        session=np.array([0, 0, 0, 1, 1]),
        item=np.array([0, 2, 1, 1, 0]),
        click=np.array([True, False, True, True, True]),
        lengths=np.array([3, 2]),
    )
    # session 0 clicks items 0 then 1 (same genre); session 1 clicks 1 then 0 (same genre)
    assert same_genre_rate(sample, genres) == 1.0


def test_identical_samples_are_at_distance_zero_and_different_lengths_are_not() -> None:
    sample = SessionSample(
        np.array([0, 0, 1]), np.array([0, 1, 2]), np.array([True, True, False]), np.array([2, 1])
    )
    same = compare_samples(sample, sample, n_items=3, genres=np.array([0, 1, 1]))
    assert same["ks_session_length"] == 0.0 and same["genre_total_variation"] == 0.0
    assert same["real"] == same["simulated"]
    longer = SessionSample(sample.session, sample.item, sample.click, np.array([5, 6]))
    assert compare_samples(sample, longer, n_items=3)["ks_session_length"] == 1.0


def tiny_args(tmp_path) -> Args:
    return Args(
        out=str(tmp_path / "runs"),
        cache_dir=str(tmp_path / "cache"),
        progress=False,
        data=SyntheticLogs(
            LoggingConfig(
                world=GroundTruthConfig(n_users=40, n_items=200, n_topics=3, dim=4),
                sessions_per_user=8,
                horizon=10,
            )
        ),
        user_model=UserModelConfig(train=TrainConfig(epochs=2)),
    )


def test_the_synthetic_report_compares_sessions_calibration_and_the_truth(tmp_path) -> None:
    results = main(tiny_args(tmp_path))
    (run_dir,) = (tmp_path / "runs").iterdir()
    on_disk = json.loads((run_dir / "results.json").read_text())
    assert set(on_disk["sessions"]) == {"learned", "rule"}
    for comparison in on_disk["sessions"].values():
        assert 0.0 <= comparison["ks_session_length"] <= 1.0
        assert comparison["real"]["session_length"] <= 10
        assert {"ctr", "gini_clicked", "same_genre_rate"} <= set(comparison["simulated"])
    assert set(on_disk["truth_errors"]["learned"]) == {
        "click_probability",
        "leave_probability",
        "affinity_probability",
    }
    for name in ("session_lengths", "calibration", "popularity", "genres"):
        assert (run_dir / f"{name}.png").stat().st_size > 1000
    assert "| ks_session_length (to real) |" in (run_dir / "report.md").read_text()
    assert results["held_out_sessions"] == on_disk["held_out_sessions"] > 0


def test_movielens_files_without_genres_give_a_report_without_genre_figures(tmp_path) -> None:
    rng = np.random.default_rng(0)
    rows = [
        (user, int(item), int(rng.integers(1, 6)), day * 86_400 + step * 120)
        for user in range(1, 31)
        for day in range(6)
        for step, item in enumerate(
            rng.choice(np.arange(1, 201), size=int(rng.integers(2, 8)), replace=False)
        )
    ]
    path = tmp_path / "u.data"
    pd.DataFrame(rows).to_csv(path, sep="\t", header=False, index=False)
    args = tiny_args(tmp_path)
    args.data = MovieLensLogs(str(path))
    results = main(args)
    assert "genre_total_variation" not in results["sessions"]["learned"]
    assert "truth_errors" not in results
    assert results["data"] == tmp_path.name


def test_the_truth_measured_against_itself_has_no_error() -> None:
    config = LoggingConfig(
        world=GroundTruthConfig(n_users=20, n_items=30, n_topics=3, dim=4), sessions_per_user=3
    )
    log, world = generate_logs(config)
    sessions = split_sessions(log)
    users = log.raw_users(np.arange(log.n_users)).astype(np.int64)
    items = log.raw_items(np.arange(log.n_items)).astype(np.int64)
    assert (items == np.arange(30)).all()  # every item was logged: the world can stand on both sides
    errors = truth_errors(world, world, sessions.subset(np.arange(5)), log.like_threshold, 30, users, items)
    assert errors["leave_probability"]["mae"] == 0.0
    assert errors["click_probability"]["mae"] == 0.0
    assert errors["affinity_probability"]["correlation"] == pytest.approx(1.0)
