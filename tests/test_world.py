"""A World from one typed config: every data source, the cache that makes a second build fast, and
the baselines and fingerprints it gives experiments."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from recgym.data.interactions import LogError
from recgym.data.sources import TableLogs
from recgym.data.synthetic import LoggingConfig, generate_logs
from recgym.evaluation import EvalConfig, evaluate
from recgym.models.fitted import UserModelConfig, log_fingerprint
from recgym.models.training import TrainConfig
from recgym.simulators.world import GroundTruthConfig as TruthConfig
from recgym.world import HandSetDynamics, PluginSimulator, SyntheticLogs, WorldConfig, build_world

TINY = SyntheticLogs(
    LoggingConfig(world=TruthConfig(n_users=30, n_items=200, n_topics=3, dim=4), sessions_per_user=6)
)
FAST = UserModelConfig(train=TrainConfig(epochs=2))


def returns(world) -> dict:
    config = EvalConfig(n_users=20, horizon=10, seed=0)
    return evaluate(world.simulator, world.baselines(), config, world.popularity())["policies"]


def test_a_second_build_loads_every_part_from_the_cache(tmp_path, monkeypatch) -> None:
    config = WorldConfig(data=TINY, user_model=FAST)
    first = build_world(config, cache_dir=tmp_path)
    assert first.name == "neumf-synthetic" and set(first.baselines()) == {"greedy", "popular", "random"}
    assert first.dynamics_report is not None and first.dynamics_report["sessions"] > 0

    def rebuilt(*args, **kwargs):
        raise AssertionError("rebuilt a part that was cached")

    monkeypatch.setattr("recgym.data.sources.generate_logs", rebuilt)
    monkeypatch.setattr("recgym.models.fitted.train_user_model", rebuilt)
    monkeypatch.setattr("recgym.world_cache.learn_dynamics", rebuilt)
    second = build_world(config, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(second.log.frame, first.log.frame)
    assert log_fingerprint(second.log) == log_fingerprint(generate_logs(TINY.logging)[0])
    assert second.dynamics_report == json.loads(json.dumps(first.dynamics_report))
    assert returns(second) == returns(first)


def test_a_table_from_any_csv_is_a_world_named_after_its_file(tmp_path) -> None:
    rng = np.random.default_rng(0)
    rows = [(u, i) for u in range(25) for i in rng.choice(40, 8, replace=False)]
    frame = pd.DataFrame(rows, columns=["who", "what"]).assign(stars=rng.integers(1, 6, len(rows)))
    frame["when"] = np.arange(len(frame)) * 60
    frame.to_csv(tmp_path / "events.csv", index=False)
    table = TableLogs(str(tmp_path / "events.csv"), user="who", item="what", rating="stars", time="when")
    world = build_world(WorldConfig(data=table, user_model=FAST, dynamics=HandSetDynamics()))
    assert world.name == "neumf-events" and world.log.n_users == 25 and world.log.timed
    untimed = TableLogs(str(tmp_path / "events.csv"), user="who", item="what", rating="stars")
    with pytest.warns(UserWarning, match="no time column"), pytest.raises(LogError, match="no time column"):
        build_world(WorldConfig(data=untimed, user_model=FAST))  # learned dynamics need sessions


def test_a_plugin_simulator_is_the_world_and_its_logs_fit_the_baselines() -> None:
    plugin = PluginSimulator(
        "world", kwargs='{"n_users": 20, "n_items": 30}', sessions_per_user=4, horizon=10
    )
    world = build_world(WorldConfig(data=plugin, user_model=FAST))
    assert world.name == "world" and world.simulator.n_items == 30 and world.log.n_items == 30
    assert world.dynamics_report is None and world.inputs()["simulator"]["name"] == "world"
    with pytest.raises(ValueError, match="unexpected keyword argument 'n_itemz'"):
        PluginSimulator("world", kwargs='{"n_itemz": 3}')


def test_an_unwritable_cache_is_a_warning_and_the_world_is_still_built(tmp_path, monkeypatch) -> None:
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("recgym.world_cache.tempfile.mkdtemp", full)
    with pytest.warns(UserWarning, match="not cached"):
        world = build_world(WorldConfig(data=TINY, user_model=FAST), cache_dir=tmp_path)
    assert world.simulator.n_items == 200 and not list((tmp_path / "logs").glob("*"))


def test_every_registered_simulator_takes_its_configs_scalar_fields_as_keywords(tmp_path) -> None:
    from recgym.simulators.registry import check_simulator_arguments, make_simulator

    assert make_simulator("world", n_items=1000, n_users=7).n_items == 1000
    for name in ("neumf-synthetic", "sasrec-synthetic"):  # the logs' fields and their world's, flat
        check_simulator_arguments(name, {"n_items": 1000, "n_users": 50, "sessions_per_user": 3, "seed": 1})
    simulator = make_simulator(
        "mf-synthetic", n_users=30, n_items=50, n_topics=3, dim=4, sessions_per_user=4, cache_dir=tmp_path
    )
    assert (simulator.n_users, simulator.n_items) == (30, 50)
