"""Every agent through one checkpoint format and one loader: a run killed mid-way and resumed from its
checkpoint ends bitwise as an uninterrupted one; damaged, foreign or mismatched checkpoints are refused
with the problem named."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from conftest import TINY_WORLD

from recgym.agents.contract import Agent, EnvSpec, TrainOptions
from recgym.agents.device_dqn import DeviceDQNConfig
from recgym.agents.sb3.algorithms import A2CConfig, PPOConfig, QRDQNConfig
from recgym.agents.sb3.dqn import DQNConfig
from recgym.agents.topk_reinforce import TopKReinforceConfig
from recgym.agents.training.checkpoint import save_agent
from recgym.agents.zoo import AGENTS, load_agent, make_agent
from recgym.envs.vector_env import RecVectorEnv
from recgym.evaluation import EvalConfig, evaluate
from recgym.runs import checkpoint
from recgym.runs.checkpoint import CheckpointError
from recgym.runs.checkpoint_series import latest_checkpoint
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.world import GroundTruthConfig, GroundTruthWorld

B, HORIZON, HISTORY = 8, 10, 4
CHOICE = ChoiceConfig(slate_size=2)
SMALL = {"embedding_dim": 8, "net_arch": (16,)}
ON_DEVICE = {
    "learning_starts": 64,
    "batch_size": 32,
    "gradient_steps": 2,
    "target_update_interval": 7,
    "buffer_size": 200,  # the ring wraps during the run
    "exploration_fraction": 0.5,
}
OFF_POLICY = {
    "learning_starts": 40,
    "batch_size": 16,
    "buffer_size": 200,
    "target_update_interval": 22,  # syncs fall between checkpoints
    "exploration_fraction": 0.9,
}
SMALLER = {  # what shrinks each kind of agent to this tiny world, by field name
    DeviceDQNConfig: ON_DEVICE,
    TopKReinforceConfig: {"rollout_steps": 5, "batch_size": 16},
    DQNConfig: OFF_POLICY,
    QRDQNConfig: {**OFF_POLICY, "n_quantiles": 5},
    PPOConfig: {"n_steps": 16, "batch_size": 16, "n_epochs": 2},
    A2CConfig: {"n_steps": 4},
}


def small(config_class: type) -> object:
    """A registered agent's config at a tiny size: the settings of its nearest known base class, and the
    network sizes of any agent that has them (an agent registered later needs no entry)."""
    base = next((cls for cls in config_class.__mro__ if cls in SMALLER), None)
    settings = {**SMALL, **SMALLER.get(base, {})}
    fields = {field.name for field in dataclasses.fields(config_class)}
    return config_class(**{name: value for name, value in settings.items() if name in fields})


CONFIGS = {name: small(config_class) for name, config_class in AGENTS.classes().items()}
SPECS = {
    "sb3": EnvSpec(HORIZON, HISTORY, CHOICE, n_envs=2),
    "on device": EnvSpec(HORIZON, HISTORY, CHOICE, n_envs=B),
}
TOTAL, EVERY = B * 40, B * 10  # 40 batched steps (8 REINFORCE collections), a checkpoint every 10


def spec(name: str) -> EnvSpec:
    return SPECS["sb3" if name.startswith("sb3") else "on device"]


def make(name: str, world_config: GroundTruthConfig = TINY_WORLD, seed: int = 3) -> Agent:
    """A fresh agent of the named kind over a fresh world, built through the zoo."""
    return make_agent(CONFIGS[name], GroundTruthWorld(world_config), spec(name), seed)


def crash_after(timesteps: int) -> Callable[[object], bool]:
    """A callback that kills training (an exception, as a crash would) once timesteps are done."""

    def callback(agent) -> bool:
        if agent.num_timesteps >= timesteps:
            raise KeyboardInterrupt("killed")
        return True

    return callback


def served(agent: Agent) -> dict:
    """The agent's served policy evaluated on a fixed sample of users, in slates of two."""
    config = EvalConfig(n_users=20, horizon=HORIZON, history_len=HISTORY, choice=CHOICE)
    return evaluate(GroundTruthWorld(TINY_WORLD), {"agent": agent.policy()}, config)["policies"]["agent"]


def networks(agent: Agent) -> dict[str, torch.Tensor]:
    state = agent.state_dict(training=False)
    flat = {}
    for part, tensors in state.items():
        for name, value in tensors.items():
            flat.update(
                {f"{part}.{name}.{k}": v for k, v in value.items()}
                if isinstance(value, dict)
                else {f"{part}.{name}": value}
            )
    return flat


def assert_same_networks(first: Agent, second: Agent) -> None:
    a, b = networks(first), networks(second)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_every_registered_agent_follows_the_contract() -> None:
    for name in AGENTS:
        agent = make(name)
        assert isinstance(agent, Agent) and agent.config.name == name


@pytest.mark.parametrize("name", sorted(CONFIGS))
@pytest.mark.slow
def test_a_killed_run_resumed_from_its_checkpoint_ends_as_an_uninterrupted_one(name: str, tmp_path) -> None:
    uninterrupted = make(name).learn(TOTAL)

    killed = make(name)
    with pytest.raises(KeyboardInterrupt):
        killed.learn(
            TOTAL, TrainOptions(checkpoint_dir=tmp_path, checkpoint_every=EVERY, callback=crash_after(25 * B))
        )
    saved_at = json.loads((latest_checkpoint(tmp_path) / "meta.json").read_text())["num_timesteps"]
    assert 0 < saved_at < killed.num_timesteps < TOTAL

    resumed = load_agent(latest_checkpoint(tmp_path), GroundTruthWorld(TINY_WORLD), training=True)
    assert resumed.num_timesteps == saved_at and type(resumed) is type(killed)
    resumed.learn(TOTAL, TrainOptions(checkpoint_dir=tmp_path, checkpoint_every=EVERY, resume=True))

    assert resumed.num_timesteps == uninterrupted.num_timesteps
    assert_same_networks(resumed, uninterrupted)
    assert served(resumed) == served(uninterrupted)
    final = json.loads((latest_checkpoint(tmp_path) / "meta.json").read_text())
    assert final["num_timesteps"] == resumed.num_timesteps


@pytest.mark.parametrize("name", ["gpu-dqn", "sb3-ppo"])
def test_resuming_a_finished_run_trains_no_further(name: str, tmp_path) -> None:
    agent = make(name).learn(TOTAL, TrainOptions(checkpoint_dir=tmp_path))
    saved = sorted(tmp_path.iterdir())
    again = load_agent(latest_checkpoint(tmp_path), GroundTruthWorld(TINY_WORLD), training=True)
    again.learn(TOTAL, TrainOptions(checkpoint_dir=tmp_path, resume=True))
    assert again.num_timesteps == agent.num_timesteps
    assert_same_networks(again, agent)
    assert sorted(tmp_path.iterdir()) == saved  # nothing new to save


def test_resume_needs_the_total_the_run_started_with(tmp_path) -> None:
    make("gpu-dqn").learn(TOTAL, TrainOptions(checkpoint_dir=tmp_path, callback=lambda agent: False))
    agent = load_agent(latest_checkpoint(tmp_path), GroundTruthWorld(TINY_WORLD), training=True)
    with pytest.raises(ValueError, match=f"trains for {TOTAL} timesteps, not {2 * TOTAL}"):
        agent.learn(2 * TOTAL, TrainOptions(resume=True))
    with pytest.raises(ValueError, match="needs a run in progress"):
        make("gpu-dqn").learn(TOTAL, TrainOptions(resume=True))


def test_checkpoint_every_needs_a_folder() -> None:
    with pytest.raises(ValueError, match="needs a checkpoint_dir"):
        make("gpu-dqn").learn(TOTAL, TrainOptions(checkpoint_every=EVERY))


@pytest.mark.parametrize("name", ["slateq", "sb3-dqn"])
def test_the_networks_alone_load_into_envs_of_another_batch_size(name: str, tmp_path) -> None:
    agent = make(name).learn(TOTAL // 2)
    save_agent(agent, tmp_path, training=False)
    other = EnvSpec(HORIZON + 5, HISTORY, CHOICE, n_envs=3)
    loaded = load_agent(tmp_path, GroundTruthWorld(TINY_WORLD), other)
    assert_same_networks(loaded, agent)
    assert served(loaded) == served(agent)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["meta.json", "weights.pt"]
    with pytest.raises(CheckpointError, match="networks only, without the training state"):
        load_agent(tmp_path, GroundTruthWorld(TINY_WORLD), training=True)


# --- what is refused ------------------------------------------------------------------------------


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    save_agent(make("gpu-dqn").learn(B * 12), tmp_path / "ckpt", training=True)
    return tmp_path / "ckpt"


def load(folder: Path, world_config: GroundTruthConfig = TINY_WORLD, **kwargs) -> Agent:
    return load_agent(folder, GroundTruthWorld(world_config), training=True, **kwargs)


def test_flipped_byte_is_refused(saved: Path) -> None:
    weights = saved / "weights.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 3] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        load(saved)


def test_truncated_weights_are_refused(saved: Path) -> None:
    weights = saved / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load(saved)


def test_missing_meta_is_refused(saved: Path) -> None:
    (saved / "meta.json").unlink()
    with pytest.raises(CheckpointError, match="missing meta.json"):
        load(saved)


def test_another_catalog_or_population_is_named(saved: Path) -> None:
    bigger = GroundTruthConfig(**{**vars(TINY_WORLD), "n_items": 30})
    with pytest.raises(CheckpointError, match="has 15 items, the env has 30"):
        load(saved, bigger)
    with pytest.raises(CheckpointError, match="has 15 items, the env has 30"):
        load_agent(saved, GroundTruthWorld(bigger))
    more = GroundTruthConfig(**{**vars(TINY_WORLD), "n_users": 25})
    with pytest.raises(CheckpointError, match="has 20 users, the env has 25"):
        load(saved, more)


def test_another_batch_size_is_named_when_resuming(saved: Path) -> None:
    with pytest.raises(CheckpointError, match=f"has {B} envs in parallel, the env has {B + 1}"):
        load(saved, spec=EnvSpec(HORIZON, HISTORY, CHOICE, n_envs=B + 1))


def test_an_unknown_agent_is_named(saved: Path) -> None:
    meta = json.loads((saved / "meta.json").read_text())
    meta["agent"] = "dueling-dqn"
    (saved / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="agent 'dueling-dqn' that is not registered"):
        load(saved)


def test_a_config_that_builds_other_shapes_is_named(saved: Path) -> None:
    meta = json.loads((saved / "meta.json").read_text())
    meta["config"]["embedding_dim"] = 4
    (saved / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="(?s)does not fit the gpu-dqn: .*size mismatch"):
        load(saved)


def test_an_unknown_config_field_is_named(saved: Path) -> None:
    meta = json.loads((saved / "meta.json").read_text())
    meta["config"]["dueling"] = True
    (saved / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(
        CheckpointError, match="does not fit the gpu-dqn: DeviceDQNConfig has no field dueling"
    ):
        load(saved)


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
        load(saved)
    assert not marker.exists()


def test_a_crash_while_writing_a_checkpoint_leaves_the_previous_one_loadable(tmp_path, monkeypatch) -> None:
    killed = make("gpu-dqn")
    with pytest.raises(KeyboardInterrupt):
        killed.learn(
            TOTAL, TrainOptions(checkpoint_dir=tmp_path, checkpoint_every=EVERY, callback=crash_after(15 * B))
        )
    before = latest_checkpoint(tmp_path)
    real_replace = os.replace

    def crash_on_meta(src, dst):
        if Path(dst).name == "meta.json":
            raise OSError("No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_meta)
    resumed = load(before)
    with pytest.raises(OSError, match="No space left"):
        resumed.learn(TOTAL, TrainOptions(checkpoint_dir=tmp_path, checkpoint_every=EVERY, resume=True))
    monkeypatch.undo()
    assert latest_checkpoint(tmp_path) == before
    assert load(latest_checkpoint(tmp_path)).num_timesteps == 10 * B


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
