"""experiments.dqn killed mid-training and rerun with --resume ends with the uninterrupted run's results."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from stable_baselines3 import DQN
from test_experiment_dqn import tiny_args

from agents.device_dqn import DeviceDQN, DeviceDQNConfig
from agents.dqn import DQNConfig
from experiments.dqn import main
from recgym.checkpoint import CheckpointError

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
def test_resume_after_a_crash_gives_the_uninterrupted_results(tmp_path, monkeypatch, agent, owner, method):
    args = tiny_args(tmp_path)
    args.agent, args.progress = agent, False
    args.gpu_dqn = DeviceDQNConfig(**UPDATES, gradient_steps=1, embedding_dim=8, net_arch=(16,))
    args.dqn = DQNConfig(**UPDATES, embedding_dim=8, net_arch=(16,))
    if agent == "gpu-dqn":
        args.n_envs = 16
    uninterrupted = main(replace(args, out=str(tmp_path / "uninterrupted")))

    killed = replace(args, out=str(tmp_path / "killed"), checkpoint_every=160)
    with monkeypatch.context() as patch:
        crash_on_call(patch, owner, method, 20)
        with pytest.raises(KeyboardInterrupt):
            main(killed)
    (run_dir,) = (tmp_path / "killed").iterdir()
    assert not (run_dir / "results.json").exists()
    latest = (run_dir / "checkpoints" / "LATEST").read_text().strip()
    assert json.loads((run_dir / "checkpoints" / latest / "meta.json").read_text())["num_timesteps"] > 0

    resumed = main(replace(killed, resume=True))
    assert resumed["policies"] == uninterrupted["policies"]
    assert [path.name for path in (tmp_path / "killed").iterdir()] == [run_dir.name]
    assert json.loads((run_dir / "results.json").read_text())["policies"] == uninterrupted["policies"]
    assert {path.name for path in (run_dir / "agent").iterdir()} == {"meta.json", "weights.pt"}


def test_resume_names_what_is_missing_or_different(tmp_path) -> None:
    args = tiny_args(tmp_path)
    with pytest.raises(ValueError, match="no run neumf-synthetic__dqn__0__\\* under"):
        main(replace(args, resume=True))
    main(args)  # a run without checkpoints
    with pytest.raises(ValueError, match=r"started with other options \(total_timesteps\)"):
        main(replace(args, resume=True, total_timesteps=700))
    with pytest.raises(CheckpointError, match="no checkpoint in .*checkpoints"):
        main(replace(args, resume=True))
