"""On-device agents: a run killed mid-way and resumed from its checkpoint ends bitwise as an
uninterrupted one; damaged, foreign or mismatched checkpoints are refused with the problem named."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from conftest import TINY_WORLD

from agents.agent_checkpoint import load_agent, save_agent
from agents.device_dqn import DeviceDQN, DeviceDQNConfig
from agents.slateq import SlateQ, SlateQConfig
from agents.topk_reinforce import TopKReinforce, TopKReinforceConfig
from envs.slate_env import SlateVectorEnv
from envs.vector_env import RecVectorEnv
from recgym import checkpoint
from recgym.checkpoint import CheckpointError
from recgym.checkpoint_series import latest_checkpoint
from recgym.evaluation import EvalConfig, evaluate
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.world import GroundTruthWorld, WorldConfig

B, HORIZON, HISTORY = 8, 10, 4
CHOICE = ChoiceConfig(slate_size=2)
SMALL = {"embedding_dim": 8, "net_arch": (16,)}
DQN = {
    "learning_starts": 64,
    "batch_size": 32,
    "gradient_steps": 2,
    "target_update_interval": 7,
    "buffer_size": 200,  # the ring wraps during the run
    "exploration_fraction": 0.5,
}
TOTAL, EVERY = B * 40, B * 10  # 40 batched steps (8 REINFORCE collections), a checkpoint every 10


def make(name: str, world_config: WorldConfig = TINY_WORLD, seed: int = 3):
    """A fresh agent of the named kind on a fresh env of the world."""
    world = GroundTruthWorld(world_config)
    if name == "gpu-dqn":
        env = RecVectorEnv(world, B, horizon=HORIZON, history_len=HISTORY)
        return DeviceDQN(env, DeviceDQNConfig(**DQN, **SMALL), seed=seed)
    env = SlateVectorEnv(world, B, horizon=HORIZON, history_len=HISTORY, choice=CHOICE)
    if name == "slateq":
        return SlateQ(env, SlateQConfig(**DQN, **SMALL), seed=seed)
    return TopKReinforce(env, TopKReinforceConfig(rollout_steps=5, batch_size=16, **SMALL), seed=seed)


AGENTS = ["gpu-dqn", "slateq", "topk-reinforce"]
CLASSES = {"gpu-dqn": DeviceDQN, "slateq": SlateQ, "topk-reinforce": TopKReinforce}


def crash_after(timesteps: int) -> Callable[[object], bool]:
    """A callback that kills training (an exception, as a crash would) once timesteps are done."""

    def callback(agent) -> bool:
        if agent.num_timesteps >= timesteps:
            raise KeyboardInterrupt("killed")
        return True

    return callback


def served(agent) -> dict:
    """The agent's served policy evaluated on a fixed sample of users."""
    choice = CHOICE if isinstance(agent.env, SlateVectorEnv) else None
    config = EvalConfig(n_users=20, horizon=HORIZON, history_len=HISTORY, choice=choice)
    return evaluate(agent.env.simulator, {"agent": agent.policy()}, config)["policies"]["agent"]


def assert_same_state(first, second) -> None:
    for name, tensor in first.state_dict()["networks"].items():
        for key, value in tensor.items():
            assert torch.equal(value, second.state_dict()["networks"][name][key]), f"{name}.{key}"


@pytest.mark.parametrize("name", AGENTS)
def test_a_killed_run_resumed_from_its_checkpoint_ends_as_an_uninterrupted_one(name: str, tmp_path) -> None:
    uninterrupted = make(name).learn(TOTAL)

    killed = make(name)
    with pytest.raises(KeyboardInterrupt):
        killed.learn(TOTAL, checkpoint_dir=tmp_path, checkpoint_every=EVERY, callback=crash_after(25 * B))
    saved_at = json.loads((latest_checkpoint(tmp_path) / "meta.json").read_text())["num_timesteps"]
    assert 0 < saved_at < killed.num_timesteps < TOTAL

    fresh_env = make(name).env  # a new process: a new simulator, env and agent
    resumed = CLASSES[name].load(latest_checkpoint(tmp_path), fresh_env)
    assert resumed.num_timesteps == saved_at
    resumed.learn(TOTAL, checkpoint_dir=tmp_path, checkpoint_every=EVERY, resume=True)

    assert resumed.num_timesteps == uninterrupted.num_timesteps
    assert_same_state(resumed, uninterrupted)
    assert served(resumed) == served(uninterrupted)


def test_resuming_a_finished_run_trains_no_further(tmp_path) -> None:
    agent = make("gpu-dqn").learn(TOTAL, checkpoint_dir=tmp_path)
    saved = sorted(tmp_path.iterdir())
    again = DeviceDQN.load(latest_checkpoint(tmp_path), make("gpu-dqn").env)
    again.learn(TOTAL, checkpoint_dir=tmp_path, resume=True)
    assert again.num_timesteps == TOTAL
    assert_same_state(again, agent)
    assert sorted(tmp_path.iterdir()) == saved  # nothing new to save


def test_resume_needs_the_total_the_run_started_with(tmp_path) -> None:
    make("gpu-dqn").learn(TOTAL, checkpoint_dir=tmp_path, callback=lambda agent: False)
    agent = DeviceDQN.load(latest_checkpoint(tmp_path), make("gpu-dqn").env)
    with pytest.raises(ValueError, match=f"trains for {TOTAL} timesteps, not {2 * TOTAL}"):
        agent.learn(2 * TOTAL, resume=True)
    with pytest.raises(ValueError, match="needs a run in progress"):
        make("gpu-dqn").learn(TOTAL, resume=True)


def test_checkpoint_every_needs_a_folder() -> None:
    with pytest.raises(ValueError, match="needs a checkpoint_dir"):
        make("gpu-dqn").learn(TOTAL, checkpoint_every=EVERY)


def test_the_networks_alone_load_into_an_env_of_another_batch_size(tmp_path) -> None:
    agent = make("slateq").learn(TOTAL)
    save_agent(agent, tmp_path, training=False)
    world = GroundTruthWorld(TINY_WORLD)
    other = SlateVectorEnv(world, 3, horizon=HORIZON + 5, history_len=HISTORY, choice=CHOICE)
    loaded = SlateQ.load(tmp_path, other, training=False)
    assert_same_state(loaded, agent)
    with pytest.raises(CheckpointError, match="networks only, without the training state"):
        SlateQ.load(tmp_path, other)


# --- what is refused ------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    agent = make("gpu-dqn").learn(B * 12)
    save_agent(agent, tmp_path / "ckpt")
    return tmp_path / "ckpt"


def test_flipped_byte_is_refused(saved: Path) -> None:
    weights = saved / "weights.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 3] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        DeviceDQN.load(saved, make("gpu-dqn").env)


def test_truncated_weights_are_refused(saved: Path) -> None:
    weights = saved / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        DeviceDQN.load(saved, make("gpu-dqn").env)


def test_missing_meta_is_refused(saved: Path) -> None:
    (saved / "meta.json").unlink()
    with pytest.raises(CheckpointError, match="missing meta.json"):
        DeviceDQN.load(saved, make("gpu-dqn").env)


def test_meta_with_a_wrong_checksum_is_refused(saved: Path) -> None:
    meta = json.loads((saved / "meta.json").read_text())
    meta["sha256"] = "0" * 64
    (saved / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        DeviceDQN.load(saved, make("gpu-dqn").env)


def test_another_catalog_size_is_named(saved: Path) -> None:
    bigger = WorldConfig(**{**vars(TINY_WORLD), "n_items": 30})
    with pytest.raises(CheckpointError, match="has 15 items, the env has 30"):
        DeviceDQN.load(saved, make("gpu-dqn", bigger).env)
    with pytest.raises(CheckpointError, match="has 15 items, the env has 30"):
        DeviceDQN.load(saved, make("gpu-dqn", bigger).env, training=False)


def test_another_user_population_is_named(saved: Path) -> None:
    more = WorldConfig(**{**vars(TINY_WORLD), "n_users": 25})
    with pytest.raises(CheckpointError, match="has 20 users, the env has 25"):
        DeviceDQN.load(saved, make("gpu-dqn", more).env)


def test_another_batch_size_is_named_when_resuming(saved: Path) -> None:
    env = RecVectorEnv(GroundTruthWorld(TINY_WORLD), B + 1, horizon=HORIZON, history_len=HISTORY)
    with pytest.raises(CheckpointError, match=f"has {B} sessions in parallel, the env has {B + 1}"):
        DeviceDQN.load(saved, env)


def test_another_agent_class_is_named(saved: Path) -> None:
    with pytest.raises(CheckpointError, match="holds a DeviceDQN, not a SlateQ"):
        SlateQ.load(saved, make("slateq").env)


def test_a_config_that_builds_other_shapes_is_named(saved: Path) -> None:
    meta = json.loads((saved / "meta.json").read_text())
    meta["embedding_dim"] = 4
    (saved / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="(?s)does not fit the DeviceDQN: .*size mismatch"):
        DeviceDQN.load(saved, make("gpu-dqn").env)


def test_an_unknown_config_field_is_named(saved: Path) -> None:
    meta = json.loads((saved / "meta.json").read_text())
    meta["config"]["dueling"] = True
    (saved / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(
        CheckpointError, match="does not fit the DeviceDQN: DeviceDQNConfig has no field dueling"
    ):
        DeviceDQN.load(saved, make("gpu-dqn").env)


class CodeOnLoad:
    """Unpickling this would run a shell command that creates marker: what a hostile checkpoint does."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_weights_holding_a_pickled_object_are_refused_without_running_it(saved: Path) -> None:
    marker = saved.parent / "code-ran"
    torch.save({"networks.q_net.item_bias": CodeOnLoad(marker)}, saved / "weights.pt")
    meta = json.loads((saved / "meta.json").read_text())
    meta["sha256"] = checkpoint.hashlib.sha256((saved / "weights.pt").read_bytes()).hexdigest()
    (saved / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="weights.pt cannot be loaded"):
        DeviceDQN.load(saved, make("gpu-dqn").env)
    assert not marker.exists()


def test_a_crash_while_writing_a_checkpoint_leaves_the_previous_one_loadable(tmp_path, monkeypatch) -> None:
    killed = make("gpu-dqn")
    with pytest.raises(KeyboardInterrupt):
        killed.learn(TOTAL, checkpoint_dir=tmp_path, checkpoint_every=EVERY, callback=crash_after(15 * B))
    before = latest_checkpoint(tmp_path)
    real_replace = os.replace

    def crash_on_meta(src, dst):
        if Path(dst).name == "meta.json":
            raise OSError("No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_meta)
    resumed = DeviceDQN.load(before, make("gpu-dqn").env)
    with pytest.raises(OSError, match="No space left"):
        resumed.learn(TOTAL, checkpoint_dir=tmp_path, checkpoint_every=EVERY, resume=True)
    monkeypatch.undo()
    assert latest_checkpoint(tmp_path) == before
    again = DeviceDQN.load(latest_checkpoint(tmp_path), make("gpu-dqn").env)
    assert again.num_timesteps == 10 * B


def test_load_agent_takes_the_class_to_build(saved: Path) -> None:
    agent = load_agent(saved, make("gpu-dqn").env, DeviceDQN)
    assert isinstance(agent, DeviceDQN) and agent.num_timesteps == B * 12


def test_an_env_continues_exactly_from_another_envs_state() -> None:
    first, second = (RecVectorEnv(GroundTruthWorld(TINY_WORLD), B, HORIZON, HISTORY) for _ in range(2))
    first.reset_tensors(seed=4)
    actions = torch.arange(B) % TINY_WORLD.n_items
    for _ in range(7):
        first.step_tensors(actions)
    second.load_state_dict(first.state_dict())
    for _ in range(12):  # sessions end and restart in both
        a, b = first.step_tensors(actions), second.step_tensors(actions)
        assert torch.equal(a.reward, b.reward) and torch.equal(a.observation["user"], b.observation["user"])
    assert all(
        torch.equal(x, y)
        for x, y in zip(
            first.sessions.state_dict()["state"].values(),
            second.sessions.state_dict()["state"].values(),
            strict=True,
        )
    )


def test_sessions_of_another_shape_are_named() -> None:
    small = RecVectorEnv(GroundTruthWorld(TINY_WORLD), B, HORIZON, HISTORY)
    longer = RecVectorEnv(GroundTruthWorld(TINY_WORLD), B, HORIZON, HISTORY + 1)
    small.reset_tensors(seed=0)
    with pytest.raises(
        ValueError, match=r"sessions history_items has shape \(8, 4\), these sessions need \(8, 5\)"
    ):
        longer.load_state_dict(small.state_dict())
