"""experiments.dqn killed mid-training and rerun with --resume ends with the uninterrupted run's results."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from stable_baselines3 import DQN
from test_experiment_dqn import tiny_args

from recgym.agents.device_dqn import DeviceDQN, DeviceDQNConfig
from recgym.agents.sb3.dqn import DQNConfig
from recgym.agents.studies.training_run import train_and_evaluate as main
from recgym.data.sources import MovieLensLogs
from recgym.runs.checkpoint import CheckpointError
from recgym.runs.folders import UNFINISHED
from recgym.world import HandSetDynamics

UPDATES = {"learning_starts": 96, "batch_size": 32, "buffer_size": 1_000, "target_update_interval": 10}


def crash_on_call(monkeypatch, owner: type, name: str, call: int) -> None:
    """Make owner.name raise (as a killed process would stop) on its call-th call."""
    real, calls = getattr(owner, name), []

    def wrapper(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)


@pytest.mark.parametrize(
    ("agent", "owner", "method"), [("gpu-dqn", DeviceDQN, "_update"), ("sb3-dqn", DQN, "train")]
)
@pytest.mark.slow
def test_resume_after_a_crash_gives_the_uninterrupted_results(tmp_path, monkeypatch, agent, owner, method):
    args = tiny_args(tmp_path)
    args.progress = False
    if agent == "sb3-dqn":
        args.agent = DQNConfig(**UPDATES, embedding_dim=8, net_arch=(16,))
    else:
        args.agent = DeviceDQNConfig(**UPDATES, gradient_steps=1, embedding_dim=8, net_arch=(16,))
        args.n_envs = 16
    uninterrupted = main(replace(args, out=str(tmp_path / "uninterrupted")))

    killed = replace(args, out=str(tmp_path / "killed"), checkpoint_every=160)
    with monkeypatch.context() as patch:
        crash_on_call(patch, owner, method, 20)
        with pytest.raises(KeyboardInterrupt):
            main(killed)
    (run_dir,) = (tmp_path / "killed").iterdir()
    assert not (run_dir / "results.json").exists() and (run_dir / UNFINISHED).is_file()
    latest = (run_dir / "checkpoints" / "LATEST").read_text().strip()
    assert json.loads((run_dir / "checkpoints" / latest / "meta.json").read_text())["num_timesteps"] > 0

    resumed = main(replace(killed, resume=True))
    assert resumed["policies"] == uninterrupted["policies"]
    assert [path.name for path in (tmp_path / "killed").iterdir()] == [run_dir.name]
    assert json.loads((run_dir / "results.json").read_text())["policies"] == uninterrupted["policies"]
    assert not (run_dir / UNFINISHED).exists()
    assert {path.name for path in (run_dir / "agent").iterdir()} == {"meta.json", "weights.pt"}


def test_resume_names_what_is_missing_or_different(tmp_path) -> None:
    args = tiny_args(tmp_path)
    with pytest.raises(ValueError, match="no run neumf-synthetic__sb3-dqn__0__\\* under"):
        main(replace(args, resume=True))
    main(args)  # a run without checkpoints
    with pytest.raises(ValueError, match=r"started with other options \(total_timesteps\)"):
        main(replace(args, resume=True, total_timesteps=700))
    with pytest.raises(CheckpointError, match="no complete checkpoint in .*checkpoints.*without --resume"):
        main(replace(args, resume=True))


def ratings_csv(folder, seed: int = 0, changed: float = 0.0):
    """A small MovieLens ratings.csv (30 users x 40 items, timestamps); `changed` re-draws that share of
    the ratings, keeping every user and item."""
    rng = np.random.default_rng(seed)
    users, items = np.meshgrid(np.arange(1, 31), np.arange(1, 41), indexing="ij")
    keep = rng.random(users.shape) < 0.5
    frame = pd.DataFrame(
        {
            "userId": users[keep],
            "movieId": items[keep],
            "rating": rng.integers(1, 6, keep.sum()).astype(float),
            "timestamp": 1_000_000 + 60 * np.arange(keep.sum()),
        }
    )
    if changed:
        redraw = np.random.default_rng(seed + 1).random(len(frame)) < changed
        frame.loc[redraw, "rating"] = 6.0 - frame.loc[redraw, "rating"]
    folder.mkdir(exist_ok=True)
    frame.to_csv(folder / "ratings.csv", index=False)
    return folder


def checkpointed_args(tmp_path):
    """tiny_args whose SB3 DQN updates early, saving a checkpoint every 200 steps."""
    args = replace(tiny_args(tmp_path), checkpoint_every=200)
    args.agent = DQNConfig(**UPDATES, embedding_dim=8, net_arch=(16,))
    return args


def kill_during_training(args) -> None:
    with pytest.MonkeyPatch.context() as patch:
        crash_on_call(patch, DQN, "train", 20)
        with pytest.raises(KeyboardInterrupt):
            main(args)


@pytest.mark.slow
def test_resume_refuses_a_log_that_changed_since_the_run_started(tmp_path) -> None:
    args = checkpointed_args(tmp_path)
    args.data = MovieLensLogs(str(ratings_csv(tmp_path / "ml")), likes=True)
    args.dynamics = HandSetDynamics()
    kill_during_training(args)
    ratings_csv(tmp_path / "ml", changed=0.33)  # same users and items, a third of the ratings changed
    changed = r"inputs of .* changed .*data sha256: [0-9a-f]{12} then, [0-9a-f]{12} now"
    with pytest.raises(ValueError, match=changed):
        main(replace(args, resume=True))
    ratings_csv(tmp_path / "ml")  # the original file again: the run continues
    resumed = main(replace(args, resume=True))
    assert resumed["policies"] == main(replace(args, out=str(tmp_path / "fresh")))["policies"]


@pytest.mark.slow
def test_resume_finds_the_run_under_another_spelling_of_out_and_after_a_move(tmp_path, monkeypatch) -> None:
    args = checkpointed_args(tmp_path)
    args.out = str((tmp_path / "runs").resolve())
    kill_during_training(args)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").rename(tmp_path / "moved")
    resumed = main(replace(args, out="moved/", resume=True))
    assert resumed["policies"] == main(replace(args, out=str(tmp_path / "fresh")))["policies"]


def test_resume_names_a_damaged_config_or_a_missing_checkpoint_before_fitting(tmp_path, monkeypatch) -> None:
    args = checkpointed_args(tmp_path)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed during the user-model fit")

    def refit(*args, **kwargs):
        raise AssertionError("the user model was fitted before the run was checked")

    monkeypatch.setattr("recgym.models.fitted.train_user_model", killed)
    with pytest.raises(KeyboardInterrupt):
        main(args)
    monkeypatch.setattr("recgym.models.fitted.train_user_model", refit)
    with pytest.raises(CheckpointError, match="stopped before its first checkpoint.*without --resume"):
        main(replace(args, resume=True))
    (run_dir,) = (tmp_path / "runs").iterdir()
    for damage in (b'{"seed": 0', b"[1, 2]", b"\xff\xfe{}"):
        (run_dir / "config.json").write_bytes(damage)
        with pytest.raises(ValueError, match=r"config\.json is damaged"):
            main(replace(args, resume=True))
