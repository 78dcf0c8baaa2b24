"""stable-baselines3 agents saved without pickles, and resumed exactly at a rollout boundary.

SB3's own `model.save()` zip holds cloudpickled objects (schedules, spaces), so loading a stranger's
zip can run code; recgym does not use it. A checkpoint here (`recgym.checkpoint`) holds the policy's
tensors in `weights.pt` and the config as JSON, and `load_sb3` copies them into a model freshly built
by `make_dqn` / `make_sb3_agent` from the same config and env, after checking that they fit.

With the training state, the checkpoint also holds all the next rollouts depend on: the optimizer,
the replay buffer (off-policy agents), the last observation and episode starts, the counters
(timesteps, updates, target-sync calls, episodes), the exploration rate and progress, the global
NumPy, torch and Python RNG states that SB3 draws from, the action space's RNG, and each single-user
env's session, random stream and episode return so far. `SB3Checkpoints` saves at the start of a
rollout, after the previous update: the one point where SB3's `learn` holds nothing in local
variables. `model.learn(total - model.num_timesteps, reset_num_timesteps=False)` after `load_sb3`
then continues bitwise as the run that was never interrupted (tested for DQN, QR-DQN, PPO and A2C on
CPU; the envs must be a `DummyVecEnv`, as `make_vec_env` builds).
"""

from __future__ import annotations

import dataclasses
import random
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv

from recgym.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from recgym.checkpoint_series import save_in_series
from recgym.tensor_tree import join_tree, split_tree

FORMAT = "recgym-sb3/1"
_COUNTERS = (
    "num_timesteps",
    "_n_updates",
    "_n_calls",  # DQN, QR-DQN: times the target-network syncs
    "_episode_num",
    "exploration_rate",
    "_current_progress_remaining",
)
_REPLAY = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def save_sb3(
    model: BaseAlgorithm, folder: str | Path, agent: str, config: Any, training: bool = True
) -> None:
    """Save model (built as agent, e.g. "sb3-dqn", from config) to folder; with `training`, all that
    resuming its run exactly needs."""
    save_checkpoint(folder, *_tensors_and_meta(model, agent, config, training))


def load_sb3(
    folder: str | Path, model: BaseAlgorithm, agent: str, config: Any, training: bool = True
) -> BaseAlgorithm:
    """Load the checkpoint in folder into model, freshly built as agent from config on its env;
    `training=False` loads the policy only. CheckpointError naming what does not fit."""
    tensors, meta = load_checkpoint(folder)
    problem = _mismatch(meta, model, agent, config, training)
    if problem:
        raise CheckpointError(f"checkpoint {folder} {problem}")
    try:
        state = join_tree(meta["state"], tensors)
        model.policy.load_state_dict(state["policy"])
        if training:
            _load_training_state(model, state)
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise CheckpointError(f"checkpoint {folder} does not fit the {agent}: {error}") from error
    return model


class SB3Checkpoints(BaseCallback):
    """Saves the model into a checkpoint series (`recgym.checkpoint_series`) at the first rollout start
    after every `every` timesteps (0: never), and when training reaches its total.

    :param root: folder of the series.
    :param every: timesteps between checkpoints.
    :param agent: the agent's name, e.g. "sb3-dqn".
    :param config: the config the model was built from.
    """

    def __init__(self, root: str | Path, every: int, agent: str, config: Any):
        super().__init__()
        if every < 0:
            raise ValueError(f"checkpoint_every must be >= 0, got {every}")
        self.root, self.every, self.agent, self.config = Path(root), every, agent, config
        self.last = 0
        self.saved_at: int | None = None

    def _on_training_start(self) -> None:
        self.last = self.model.num_timesteps
        if self.last > 0:  # resumed from a checkpoint of this step
            self.saved_at = self.last

    def _on_rollout_start(self) -> None:
        now = self.model.num_timesteps
        if self.every and self.last // self.every < now // self.every:
            self._save()
        self.last = now

    def _on_step(self) -> bool:
        return True

    def _on_training_end(self) -> None:
        if self.model.num_timesteps >= self.model._total_timesteps:  # not stopped mid-rollout
            self._save()

    def _save(self) -> None:
        step = self.model.num_timesteps
        if self.saved_at != step:
            save_in_series(self.root, step, *_tensors_and_meta(self.model, self.agent, self.config, True))
            self.saved_at = step


def _tensors_and_meta(model: BaseAlgorithm, agent: str, config: Any, training: bool) -> tuple[dict, dict]:
    state: dict[str, Any] = {"policy": model.policy.state_dict()}
    if training:
        state |= _training_state(model)
    skeleton, tensors = split_tree(state)
    meta = {
        "format": FORMAT,
        "agent": agent,
        "algorithm": type(model).__name__,
        "config": dataclasses.asdict(config),
        "num_timesteps": model.num_timesteps,
        "training_state": training,
        "env": _sizes(model),
        "state": skeleton,
    }
    return tensors, meta


def _sizes(model: BaseAlgorithm) -> dict[str, Any]:
    space = model.observation_space
    return {
        "n_items": int(model.action_space.n),  # type: ignore[attr-defined]
        "n_users": int(space["user"].high[0]) + 1,  # type: ignore[index]
        "history_len": int(space["recent_items"].shape[0]),  # type: ignore[index]
        "n_envs": model.n_envs,
        "device": model.device.type,
    }


def _mismatch(meta: dict, model: BaseAlgorithm, agent: str, config: Any, training: bool) -> str | None:
    """What keeps the checkpoint from loading into model, or None."""
    if meta.get("format") != FORMAT:
        return f"is not a recgym SB3 checkpoint (format {meta.get('format')!r}, expected {FORMAT!r})"
    if meta.get("agent") != agent:
        return f"holds a {meta.get('agent')}, not a {agent}"
    if training and not meta.get("training_state"):
        return "holds the policy only, without the training state needed to resume"
    saved, current = meta.get("env", {}), _sizes(model)
    for key in ("n_items", "n_users", "history_len") + (("n_envs", "device") if training else ()):
        if saved.get(key) != current[key]:
            return f"has {key} {saved.get(key)}, the env has {current[key]}"
    if training:
        fields, saved_fields = _json_config(config), meta.get("config", {})
        differ = sorted(key for key in fields | saved_fields if fields.get(key) != saved_fields.get(key))
        if differ:
            return f"was trained with another config ({', '.join(differ)} differ)"
    return None


def _json_config(config: Any) -> dict[str, Any]:
    """config as its JSON round trip gives it back (tuples as lists)."""
    fields = dataclasses.asdict(config)
    return {key: list(value) if isinstance(value, tuple) else value for key, value in fields.items()}


def _training_state(model: BaseAlgorithm) -> dict[str, Any]:
    counters = {name: getattr(model, name) for name in _COUNTERS if hasattr(model, name)}
    last_obs = model._last_obs
    assert isinstance(last_obs, dict) and model.get_vec_normalize_env() is None, "recgym's dict observations"
    name, keys, *rest = np.random.get_state(legacy=True)  # ("MT19937", keys, position, gauss cache)
    rng = {
        "numpy": (name, torch.from_numpy(np.asarray(keys).astype(np.int64)), *rest),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if model.device.type == "cuda" else [],
        "python": random.getstate(),
        "action_space": model.action_space.np_random.bit_generator.state,
    }
    return {
        "optimizer": model.policy.optimizer.state_dict(),
        "counters": counters,
        "last_obs": {key: torch.from_numpy(value.copy()) for key, value in last_obs.items()},
        "last_episode_starts": torch.from_numpy(np.asarray(model._last_episode_starts).copy()),
        "episodes": list(model.ep_info_buffer or []),
        "replay": _replay_state(model.replay_buffer) if isinstance(model, OffPolicyAlgorithm) else None,
        "rng": rng,
        "envs": [_env_state(env) for env in _single_envs(model)],
    }


def _load_training_state(model: BaseAlgorithm, state: dict[str, Any]) -> None:
    model.policy.optimizer.load_state_dict(state["optimizer"])
    for name, value in state["counters"].items():
        setattr(model, name, value)
    model._last_obs = {key: value.numpy() for key, value in state["last_obs"].items()}  # type: ignore[assignment]
    model._last_episode_starts = state["last_episode_starts"].numpy()
    model.ep_info_buffer = deque(state["episodes"], maxlen=model._stats_window_size)
    model.ep_success_buffer = deque(maxlen=model._stats_window_size)
    if state["replay"] is not None:
        assert isinstance(model, OffPolicyAlgorithm) and model.replay_buffer is not None
        _load_replay(model.replay_buffer, state["replay"])
    envs = _single_envs(model)
    if len(envs) != len(state["envs"]):
        raise ValueError(f"the model has {len(envs)} envs, the checkpoint {len(state['envs'])}")
    for env, env_state in zip(envs, state["envs"], strict=True):
        _load_env(env, env_state)
    rng = state["rng"]
    name, keys, *rest = rng["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    torch.set_rng_state(rng["torch"])
    if rng["cuda"]:
        torch.cuda.set_rng_state_all(rng["cuda"])
    random.setstate(rng["python"])
    model.action_space.np_random.bit_generator.state = rng["action_space"]


def _replay_state(buffer: ReplayBuffer | None) -> dict[str, Any]:
    """The filled rows of an SB3 replay buffer (dict or array observations) as tensors."""
    assert buffer is not None
    rows = buffer.buffer_size if buffer.full else buffer.pos
    fields = {
        name: _map(getattr(buffer, name), lambda a: torch.from_numpy(a[:rows].copy())) for name in _REPLAY
    }
    return {"buffer_size": buffer.buffer_size, "pos": buffer.pos, "full": buffer.full, "fields": fields}


def _load_replay(buffer: ReplayBuffer, state: dict[str, Any]) -> None:
    if state["buffer_size"] != buffer.buffer_size:
        raise ValueError(
            f"the replay buffer has {buffer.buffer_size} rows, the checkpoint's {state['buffer_size']}"
        )
    buffer.pos, buffer.full = state["pos"], state["full"]
    for name in _REPLAY:
        _copy_rows(getattr(buffer, name), state["fields"][name])


def _copy_rows(target: Any, saved: Any) -> None:
    if isinstance(target, dict):
        for key in target:
            _copy_rows(target[key], saved[key])
    elif target is not None:
        target[: len(saved)] = saved.numpy()


def _map(value: Any, function: Any) -> Any:
    if isinstance(value, dict):
        return {key: function(item) for key, item in value.items()}
    return None if value is None else function(value)


def _single_envs(model: BaseAlgorithm) -> list:
    env = model.get_env()
    if not isinstance(env, DummyVecEnv):
        raise ValueError(f"exact resume needs a DummyVecEnv (make_vec_env's), got {type(env).__name__}")
    return env.envs


def _env_state(env: Any) -> dict[str, Any]:
    """A single-user env's session and stream, and the return its Monitor has summed so far."""
    rewards = list(env.rewards) if isinstance(env, Monitor) else []
    return {"env": env.unwrapped.state_dict(), "monitor_rewards": rewards}


def _load_env(env: Any, state: dict[str, Any]) -> None:
    env.unwrapped.load_state_dict(state["env"])
    if isinstance(env, Monitor):
        env.rewards, env.needs_reset = list(state["monitor_rewards"]), False
