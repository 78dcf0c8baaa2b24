"""A data source and an agent from a module outside the repository run end to end with no edit to recgym:
`train_and_evaluate`, a checkpoint and resume, a comparison cell, and the command line's `--import`."""

from __future__ import annotations

import dataclasses
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_experiment_dqn import tiny_args

from recgym.agents.contract import TrainOptions
from recgym.agents.studies.comparison import CompareConfig
from recgym.agents.zoo import AGENTS, load_agent
from recgym.data.sources import SOURCES, read_logs
from recgym.experiments.compare import main as compare
from recgym.runs.checkpoint_series import latest_checkpoint
from recgym.world import HandSetDynamics

TOY = Path(__file__).parent / "toy_extensions.py"


@pytest.fixture
def toys(tmp_path, monkeypatch):
    """The toy module copied to a folder of its own and imported from there (then unregistered)."""
    folder = tmp_path / "user_code"
    folder.mkdir()
    shutil.copy(TOY, folder / "my_toys.py")
    monkeypatch.syspath_prepend(str(folder))
    yield importlib.import_module("my_toys")
    AGENTS.unregister("epsilon-greedy")
    SOURCES.unregister("memory")
    sys.modules.pop("my_toys", None)


def toy_run(tmp_path, toys):
    """A tiny run on the toy source (the tiny synthetic log's rows, held in memory) and the toy agent."""
    base = tiny_args(tmp_path)
    frame = read_logs(base.data).frame
    rows = tuple(frame[["user", "item", "rating", "timestamp"]].itertuples(index=False, name=None))
    return dataclasses.replace(
        base,
        data=toys.MemoryLogs(rows),
        agent=toys.EpsilonGreedyConfig(epsilon=0.2),
        dynamics=HandSetDynamics(),
        n_envs=8,
        total_timesteps=400,
    )


def test_a_users_source_and_agent_train_evaluate_and_resume(tmp_path, toys) -> None:
    from recgym.agents.studies.training_run import train_and_evaluate

    run = toy_run(tmp_path, toys)
    results = train_and_evaluate(run)
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.startswith("neumf-memory__epsilon-greedy__0__")
    assert set(results["policies"]) == {"epsilon-greedy", "greedy", "popular", "random"}
    assert json.loads((run_dir / "config.json").read_text())["agent"]["kind"] == "epsilon-greedy"

    # the saved agent loads through the one loader, and a killed run resumes bit for bit
    served = load_agent(run_dir / "agent", _simulator(run))
    assert type(served).__name__ == "EpsilonGreedy"

    uninterrupted = run.agent.build(_simulator(run), _spec(run), seed=3).learn(run.total_timesteps)
    killed = run.agent.build(_simulator(run), _spec(run), seed=3)
    with pytest.raises(KeyboardInterrupt):
        killed.learn(
            run.total_timesteps,
            TrainOptions(checkpoint_dir=tmp_path / "ckpt", checkpoint_every=80, callback=_crash_after(240)),
        )
    resumed = load_agent(latest_checkpoint(tmp_path / "ckpt"), _simulator(run), training=True)
    resumed.learn(
        run.total_timesteps, TrainOptions(checkpoint_dir=tmp_path / "ckpt", checkpoint_every=80, resume=True)
    )
    assert resumed.clicks.equal(uninterrupted.clicks) and resumed.shown.equal(uninterrupted.shown)


def test_a_users_agent_is_a_comparison_cell(tmp_path, toys) -> None:
    run = dataclasses.replace(toy_run(tmp_path, toys), agent=CompareConfig().run.agent)
    args = CompareConfig(
        agents=("epsilon-greedy",),
        greedy_models=("neumf",),
        seeds=(0,),
        workers=1,
        curve_every=200,
        curve_users=10,
        out=str(tmp_path / "compare"),
        run=run,
    )
    summary = compare(args)
    assert "epsilon-greedy" in json.dumps(summary)
    (folder,) = (tmp_path / "compare").iterdir()
    assert (folder / "cells" / "epsilon-greedy__seed0.json").exists()


def test_the_command_line_imports_a_users_module_and_offers_its_choices(tmp_path) -> None:
    folder = tmp_path / "user_code"
    folder.mkdir()
    shutil.copy(TOY, folder / "my_toys.py")
    command = [sys.executable, "-m", "recgym.experiments.dqn", "--import", "my_toys", "agent:epsilon-greedy"]
    help_text = subprocess.run(
        [*command, "--help"], capture_output=True, text=True, cwd=folder, check=False, timeout=120
    )
    assert help_text.returncode == 0, help_text.stderr
    assert "--agent.epsilon" in help_text.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "recgym.experiments.dqn", "--import", "no_such_module_here", "--help"],
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
        timeout=120,
    )
    assert missing.returncode == 2 and "--import no_such_module_here" in missing.stderr


def _simulator(run):
    from recgym.world import build_world

    return build_world(run.world, run.cache_dir).simulator


def _spec(run):
    from recgym.agents.contract import EnvSpec

    return EnvSpec(run.horizon, run.history_len, None, run.n_envs)


def _crash_after(timesteps: int):
    def callback(agent) -> bool:
        if agent.num_timesteps >= timesteps:
            raise KeyboardInterrupt("killed")
        return True

    return callback
