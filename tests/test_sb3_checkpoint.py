"""stable-baselines3 agents: saved without pickles, loaded into fresh models, resumed bitwise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_WORLD
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

from agents.dqn import DQNConfig, make_dqn
from agents.sb3_agents import A2CConfig, PPOConfig, QRDQNConfig, make_sb3_agent
from agents.sb3_checkpoint import SB3Checkpoints, load_sb3, save_sb3
from envs.rec_env import RecEnv
from recgym.checkpoint import CheckpointError
from recgym.checkpoint_series import latest_checkpoint
from recgym.simulators.world import GroundTruthWorld, WorldConfig

SMALL = {"embedding_dim": 8, "net_arch": (16,)}
OFF_POLICY = {
    "learning_starts": 40,
    "batch_size": 16,
    "buffer_size": 200,  # the ring wraps
    "target_update_interval": 22,  # syncs fall between checkpoints
    "exploration_fraction": 0.9,
}
CONFIGS = {
    "sb3-dqn": DQNConfig(**OFF_POLICY, **SMALL),
    "sb3-qrdqn": QRDQNConfig(**OFF_POLICY, n_quantiles=5, **SMALL),
    "sb3-ppo": PPOConfig(n_steps=16, batch_size=16, n_epochs=2, **SMALL),
    "sb3-a2c": A2CConfig(n_steps=4, **SMALL),
}
TOTAL, EVERY = 320, 64


def build(name: str, world_config: WorldConfig = TINY_WORLD, seed: int = 1):
    """A fresh model of the named agent on two fresh single-user envs."""
    env_kwargs = {"simulator": GroundTruthWorld(world_config), "horizon": 10, "history_len": 4}
    vec_env = make_vec_env(RecEnv, n_envs=2, seed=seed, env_kwargs=env_kwargs)
    if name == "sb3-dqn":
        return make_dqn(vec_env, CONFIGS[name], seed=seed)
    return make_sb3_agent(name, vec_env, CONFIGS[name], seed=seed)  # type: ignore[arg-type]


class Crash(BaseCallback):
    """Kills training (an exception, as a crash would) once `at` timesteps are done."""

    def __init__(self, at: int):
        super().__init__()
        self.at = at

    def _on_step(self) -> bool:
        if self.model.num_timesteps >= self.at:
            raise KeyboardInterrupt("killed")
        return True


def same_policy(first, second) -> bool:
    a, b = first.policy.state_dict(), second.policy.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a)


def actions(model) -> np.ndarray:
    observation = {
        "user": np.arange(6)[:, None] % TINY_WORLD.n_users,
        "recent_items": np.tile(np.arange(4), (6, 1)),
        "recent_responses": np.eye(6, 4, dtype=np.float32),
    }
    return model.predict(observation, deterministic=True)[0]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_killed_run_resumed_from_its_checkpoint_ends_as_an_uninterrupted_one(name: str, tmp_path) -> None:
    uninterrupted = build(name).learn(TOTAL)

    killed = build(name)
    with pytest.raises(KeyboardInterrupt):
        killed.learn(TOTAL, callback=[SB3Checkpoints(tmp_path, EVERY, name, CONFIGS[name]), Crash(200)])
    resumed = load_sb3(latest_checkpoint(tmp_path), build(name), name, CONFIGS[name])
    assert 0 < resumed.num_timesteps < 200
    checkpoints = SB3Checkpoints(tmp_path, EVERY, name, CONFIGS[name])
    resumed.learn(TOTAL - resumed.num_timesteps, callback=checkpoints, reset_num_timesteps=False)

    assert resumed.num_timesteps == uninterrupted.num_timesteps
    assert same_policy(resumed, uninterrupted)
    assert (actions(resumed) == actions(uninterrupted)).all()
    final = json.loads((latest_checkpoint(tmp_path) / "meta.json").read_text())
    assert final["num_timesteps"] == resumed.num_timesteps


@pytest.mark.parametrize("name", ["sb3-dqn", "sb3-ppo"])
def test_the_policy_alone_round_trips_into_a_fresh_model(name: str, tmp_path) -> None:
    trained = build(name).learn(160)
    save_sb3(trained, tmp_path, name, CONFIGS[name], training=False)
    loaded = load_sb3(tmp_path, build(name, seed=7), name, CONFIGS[name], training=False)
    assert same_policy(loaded, trained)
    assert (actions(loaded) == actions(trained)).all()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["meta.json", "weights.pt"]
    with pytest.raises(CheckpointError, match="policy only, without the training state"):
        load_sb3(tmp_path, build(name), name, CONFIGS[name])


@pytest.fixture
def saved_dqn(tmp_path: Path) -> Path:
    save_sb3(build("sb3-dqn").learn(64), tmp_path, "sb3-dqn", CONFIGS["sb3-dqn"])
    return tmp_path


def test_another_catalog_is_named(saved_dqn: Path) -> None:
    bigger = build("sb3-dqn", WorldConfig(**{**vars(TINY_WORLD), "n_items": 30}))
    with pytest.raises(CheckpointError, match="has n_items 15, the env has 30"):
        load_sb3(saved_dqn, bigger, "sb3-dqn", CONFIGS["sb3-dqn"], training=False)


def test_another_agent_is_named(saved_dqn: Path) -> None:
    with pytest.raises(CheckpointError, match="holds a sb3-dqn, not a sb3-qrdqn"):
        load_sb3(saved_dqn, build("sb3-qrdqn"), "sb3-qrdqn", CONFIGS["sb3-qrdqn"])


def test_another_config_is_named_when_resuming(saved_dqn: Path) -> None:
    other = DQNConfig(**{**OFF_POLICY, "batch_size": 32}, **SMALL)
    with pytest.raises(CheckpointError, match=r"another config \(batch_size differ\)"):
        load_sb3(saved_dqn, make_dqn(build("sb3-dqn").get_env(), other), "sb3-dqn", other)


def test_other_network_shapes_are_named(saved_dqn: Path) -> None:
    wider = DQNConfig(**OFF_POLICY, embedding_dim=8, net_arch=(32,))
    model = make_dqn(build("sb3-dqn").get_env(), wider)
    with pytest.raises(CheckpointError, match="(?s)does not fit the sb3-dqn: .*size mismatch"):
        load_sb3(saved_dqn, model, "sb3-dqn", wider, training=False)


def test_a_flipped_byte_is_refused(saved_dqn: Path) -> None:
    weights = saved_dqn / "weights.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x10
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        load_sb3(saved_dqn, build("sb3-dqn"), "sb3-dqn", CONFIGS["sb3-dqn"])
