"""experiments.tradeoff and experiments.sim_to_real end to end on a tiny world, and the seed helpers."""

from __future__ import annotations

import json

import pytest

from recgym.agents.sb3.dqn import DQNConfig
from recgym.agents.studies.sim_to_real import SimToRealConfig
from recgym.agents.studies.training_run import RunConfig
from recgym.data.sources import MovieLensLogs, SyntheticLogs
from recgym.data.synthetic import LoggingConfig
from recgym.experiments import sim_to_real, tradeoff
from recgym.models.fitted import UserModelConfig
from recgym.models.training import TrainConfig
from recgym.reports.intervals import format_interval, mean_interval, metric_interval
from recgym.simulators.world import GroundTruthConfig


def tiny_run(tmp_path, **overrides) -> RunConfig:
    logging = LoggingConfig(
        world=GroundTruthConfig(n_users=30, n_items=200, n_topics=3, dim=4), sessions_per_user=20, horizon=10
    )
    settings = {
        "agent": DQNConfig(),
        "data": SyntheticLogs(logging),
        "total_timesteps": 400,
        "eval_users": 30,
        "horizon": 10,
        "history_len": 4,
        "progress": False,
        "out": str(tmp_path / "runs"),
        "cache_dir": str(tmp_path / "cache"),
        "user_model": UserModelConfig(train=TrainConfig(epochs=2)),
    }
    return RunConfig(**(settings | overrides))


def test_mean_interval_is_a_t_interval_that_widens_with_spread() -> None:
    narrow, wide = mean_interval([1.0, 1.1, 0.9]), mean_interval([0.0, 1.0, 2.0])
    assert narrow["mean"] == pytest.approx(1.0) and wide["mean"] == pytest.approx(1.0)
    assert narrow["ci95"][0] < 1.0 < narrow["ci95"][1]
    assert wide["ci95"][1] - wide["ci95"][0] > 5 * (narrow["ci95"][1] - narrow["ci95"][0])
    assert mean_interval([2.0])["ci95"] == [2.0, 2.0]


def test_intervals_of_few_seeds_stay_inside_the_metric_range() -> None:
    """Two seeds give a wide t-interval: coverage [0.51, 1.30] and a negative session length were
    reported before the intervals were clipped."""
    coverage = metric_interval("coverage", [0.51, 1.0])
    assert coverage["ci95"][1] == 1.0 and coverage["clipped"] and coverage["mean"] == pytest.approx(0.755)
    length = metric_interval("session_length", [1.0, 19.0])
    assert length["ci95"][0] == 0.0 and length["clipped"]
    assert "clipped" not in metric_interval("return_mean", [1.0, 19.0])
    assert format_interval(coverage).endswith("†") and not format_interval(
        mean_interval([1.0, 2.0])
    ).endswith("†")


@pytest.mark.slow
def test_tradeoff_summarises_every_policy_over_seeds(tmp_path) -> None:
    args = tradeoff.Args(seeds=(0, 1), run=tiny_run(tmp_path))
    results = tradeoff.main(args)
    assert set(results["policies"]) == {"sb3-dqn", "greedy", "popular", "random"}
    for metrics in results["policies"].values():
        assert len(metrics["return_mean"]["values"]) == 2
    assert len(results["verdict"]) == 3 and results["verdict"][0].startswith("highest click rate")
    (run_dir,) = [path for path in (tmp_path / "runs").iterdir() if "__tradeoff__" in path.name]
    assert (run_dir / "tradeoff.png").stat().st_size > 1000
    assert json.loads((run_dir / "results.json").read_text())["seeds"] == [0, 1]


@pytest.mark.slow
def test_sim_to_real_evaluates_each_policy_in_the_simulator_and_the_truth(tmp_path) -> None:
    results = sim_to_real.main(SimToRealConfig(seeds=(0, 1), run=tiny_run(tmp_path)))
    assert set(results["policies"]) == {"sb3-dqn", "greedy", "popular", "random", "sb3-dqn-trained-in-truth"}
    for row in results["policies"].values():
        assert row["gap"]["mean"] == pytest.approx(row["simulator"]["mean"] - row["truth"]["mean"])
    assert -1.0 <= results["kendall_tau"]["mean"] <= 1.0
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert (run_dir / "sim_vs_real.png").stat().st_size > 1000
    assert (run_dir / "seed_1" / "train_truth").is_dir()


def test_sim_to_real_refuses_logs_whose_truth_is_unknown(tmp_path) -> None:
    with pytest.raises(ValueError, match="truth is known"):
        SimToRealConfig(seeds=(0,), run=tiny_run(tmp_path, data=MovieLensLogs("x")))
