"""A user-model fit leaves a trace as it runs: a line per epoch, live curves and a record that survives
a fit stopped halfway."""

from __future__ import annotations

import json

import pytest

from recgym.data.synthetic import LoggingConfig, generate_logs
from recgym.models.fit_trace import FitTrace
from recgym.models.fitted import UserModelConfig, fit_user_model
from recgym.models.training import TrainConfig
from recgym.simulators.world import GroundTruthConfig

TINY_LOGS = LoggingConfig(
    world=GroundTruthConfig(n_users=30, n_items=200, n_topics=3, dim=4), sessions_per_user=6
)


def test_a_fit_stopped_halfway_leaves_its_epochs_and_the_best_one(tmp_path, capsys) -> None:
    log, _ = generate_logs(TINY_LOGS)
    trace = FitTrace(tmp_path / "fit", lines=True)

    def stopped_after_two(epoch: int, row: dict[str, float]) -> None:
        trace(epoch, row)
        if epoch == 2:
            raise KeyboardInterrupt("stopped")

    config = UserModelConfig(train=TrainConfig(epochs=10, patience=10))
    with pytest.raises(KeyboardInterrupt):
        fit_user_model(log, config, progress=False, on_epoch=stopped_after_two)
    record = json.loads((tmp_path / "fit" / "fit_progress.json").read_text())
    assert record["epochs"] == 2 and len(record["history"]) == 2
    best = record["history"][record["best_epoch"] - 1]
    assert record["best"] == best and best["valid_ndcg@10"] == max(
        r["valid_ndcg@10"] for r in record["history"]
    )
    assert any(path.name.startswith("events.out.tfevents") for path in (tmp_path / "fit").iterdir())
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("fit epoch")]
    assert len(lines) == 2 and "valid HR@10" in lines[0]


def test_a_cached_model_still_gets_its_curves(tmp_path) -> None:
    log, _ = generate_logs(TINY_LOGS)
    config = UserModelConfig(train=TrainConfig(epochs=2))
    fitted = fit_user_model(log, config, cache_dir=tmp_path / "cache", progress=False)
    trace = FitTrace(tmp_path / "again")
    cached = fit_user_model(log, config, cache_dir=tmp_path / "cache", progress=False, on_epoch=trace)
    trace.finish(cached.fit_report["history"])
    record = json.loads((tmp_path / "again" / "fit_progress.json").read_text())
    assert record["history"] == fitted.fit_report["history"]
