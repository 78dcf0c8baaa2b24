"""experiments.fit_user_model end to end, in-process, on tiny synthetic logs; and experiments.dqn on a
sequence-model simulator."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from test_experiment_dqn import tiny_args
from test_model_zoo import TINY

from recgym.agents.studies.training_run import train_and_evaluate
from recgym.data import LogError
from recgym.data.sources import MovieLensLogs, SyntheticLogs, TableLogs
from recgym.data.synthetic import LoggingConfig
from recgym.experiments.fit_user_model import Args, main, resolved_config
from recgym.models.autorec import AutoRecConfig
from recgym.models.fitted import UserModelConfig
from recgym.models.gru4rec import GRU4RecConfig
from recgym.models.mf import MFConfig
from recgym.models.neumf import NeuMFConfig
from recgym.models.sasrec import SASRecConfig
from recgym.models.training import TrainConfig
from recgym.simulators.world import GroundTruthConfig

TINY_LOGS = LoggingConfig(
    world=GroundTruthConfig(n_users=30, n_items=200, n_topics=3, dim=4), sessions_per_user=6, horizon=10
)


def test_main_writes_the_documented_results_curves_and_best_epoch(tmp_path) -> None:
    args = Args(
        data=SyntheticLogs(TINY_LOGS),
        user_model=UserModelConfig(GRU4RecConfig()),
        out=str(tmp_path),
        epochs=2,
        progress=False,
    )
    results = main(args)
    (run_dir,) = tmp_path.iterdir()
    assert run_dir.name.startswith("gru4rec-synthetic__fit__0__")
    on_disk = json.loads((run_dir / "results.json").read_text())
    assert on_disk["model"] == "gru4rec" and on_disk["data"] == "synthetic"
    metrics = on_disk["metrics"]
    for protocol in ("sampled", "full"):
        assert 0.0 <= metrics[protocol]["ndcg@10"] <= metrics[protocol]["hr@10"] <= 1.0
    assert 0.0 <= metrics["auc"] <= 1.0 and metrics["logloss"] > 0 and 0.0 <= metrics["ece"] <= 1.0
    assert on_disk["epochs"] == len(on_disk["epoch_seconds"]) <= 2 and on_disk["fit_seconds"] > 0
    assert results["metrics"] == on_disk["metrics"]
    assert list((run_dir / "fit").glob("events.out.tfevents.*"))
    assert (run_dir / "best_epoch").is_dir()
    assert (
        json.loads((run_dir / "config.json").read_text())["user_model"]["architecture"]["kind"] == "gru4rec"
    )


def test_dim_epochs_and_seed_override_the_chosen_model_only() -> None:
    config = resolved_config(Args(user_model=UserModelConfig(NeuMFConfig()), dim=32, epochs=7, seed=3))
    assert config.architecture == NeuMFConfig(gmf_dim=32, mlp_layers=(64, 64, 32))
    assert config.train.epochs == 7 and config.train.seed == 3
    assert resolved_config(Args(user_model=UserModelConfig(SASRecConfig()), dim=48)).architecture.dim == 48
    assert (
        resolved_config(Args(user_model=UserModelConfig(AutoRecConfig()), dim=20)).architecture.hidden == 20
    )


def test_unknown_path_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        main(Args(data=MovieLensLogs(str(tmp_path / "missing")), out=str(tmp_path), progress=False))


@pytest.mark.slow
def test_dqn_trains_in_a_sequence_model_simulator(tmp_path) -> None:
    args = tiny_args(tmp_path)
    args.user_model = UserModelConfig(TINY["sasrec"], train=TrainConfig(epochs=2))
    results = train_and_evaluate(args)
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.startswith("sasrec-synthetic__sb3-dqn__0__")
    assert set(results["policies"]) == {"sb3-dqn", "greedy", "popular", "random"}


def _write_table(path, n_users: int = 30, n_items: int = 40, rows: int = 900) -> None:
    """A tiny log with text ids and its own column names, as a user's export would have."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "uid": [f"u{u}" for u in rng.integers(0, n_users, rows)],
            "iid": [f"item-{i}" for i in rng.integers(0, n_items, rows)],
            "stars": rng.integers(1, 6, rows),
            "when": rng.integers(0, 10**6, rows),
        }
    )
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)


def test_any_table_fits_from_the_command_line_and_names_its_run_after_the_file(tmp_path) -> None:
    for name in ("first.csv", "second.parquet"):  # two files of one folder: two run names
        _write_table(tmp_path / name)
    for name in ("first.csv", "second.parquet"):
        table = TableLogs(str(tmp_path / name), user="uid", item="iid", rating="stars", time="when")
        args = Args(data=table, user_model=UserModelConfig(MFConfig()), epochs=1)
        results = main(dataclasses.replace(args, out=str(tmp_path / "runs"), progress=False))
        assert results["n_users"] == 30 and results["n_rows"] == 900
    names = sorted(folder.name.split("__")[0] for folder in (tmp_path / "runs").iterdir())
    assert names == ["mf-first", "mf-second"]


def test_a_table_without_its_columns_is_a_clear_error(tmp_path) -> None:
    _write_table(tmp_path / "log.csv")
    with pytest.raises(LogError, match="user_id"):
        main(Args(data=TableLogs(str(tmp_path / "log.csv")), out=str(tmp_path), progress=False))


def test_the_paper_preset_sets_the_published_neumf() -> None:
    config = resolved_config(Args(user_model=UserModelConfig(NeuMFConfig()), preset="paper", epochs=3))
    assert config.architecture == NeuMFConfig(gmf_dim=8, mlp_layers=(64, 32, 16, 8))
    assert config.train.negatives == 4 and config.train.batch_size == 256 and config.train.epochs == 3


def test_the_library_fit_run_is_what_the_command_runs(tmp_path) -> None:
    from recgym.models.fit_run import FitRun, run_fit

    config = UserModelConfig(MFConfig(), train=TrainConfig(epochs=2, seed=0))
    library = run_fit(FitRun(SyntheticLogs(TINY_LOGS), config, out=str(tmp_path / "library"), threads=1))
    command = main(
        Args(
            data=SyntheticLogs(TINY_LOGS),
            user_model=UserModelConfig(MFConfig()),
            epochs=2,
            out=str(tmp_path / "command"),
            progress=False,
        )
    )
    assert library["metrics"] == command["metrics"] and library["data"] == command["data"] == "synthetic"
    (run_dir,) = (tmp_path / "library").iterdir()
    assert run_dir.name.startswith("mf-synthetic__fit__0__") and (run_dir / "results.json").exists()


def test_a_fit_fills_the_cache_the_runs_load_it_from(tmp_path, monkeypatch) -> None:
    from recgym.models import fitted
    from recgym.world import WorldConfig, build_world

    cache = tmp_path / "cache"
    args = Args(data=SyntheticLogs(TINY_LOGS), user_model=UserModelConfig(MFConfig()), epochs=1)
    args = dataclasses.replace(args, out=str(tmp_path / "runs"), cache_dir=str(cache), progress=False)
    results = main(args)

    def no_fit(*_args, **_kwargs):
        raise AssertionError("the run refitted a model the fit had cached")

    monkeypatch.setattr(fitted, "train_user_model", no_fit)
    world = build_world(WorldConfig(args.data, resolved_config(args)), cache)
    assert world.fitted.metrics["auc"] == results["metrics"]["auc"]


def test_the_fit_defaults_are_the_runs_defaults() -> None:
    from recgym.agents.studies.training_run import RunConfig

    run = RunConfig()
    assert resolved_config(Args()) == run.user_model and Args().data == run.data
