"""A stable-baselines3 algorithm's whole training state as tensors, so that it resumes exactly.

SB3's own `model.save()` zip holds cloudpickled objects (schedules, spaces), so loading a stranger's
zip can run code; recgym does not use it. `sb3_state(model)` holds the policy's tensors and, with the
training state, all the next rollouts depend on: the optimizer, the replay buffer (off-policy agents),
the last observation and episode starts, the counters (timesteps, updates, target-sync calls,
episodes), the exploration rate and progress, the global NumPy, torch and Python RNG states that SB3
draws from, the action space's RNG, and each single-user env's session, random stream and episode
return so far. Saved at the start of a rollout, after the previous update (the one point where SB3's
`learn` holds nothing in local variables), it lets `model.learn(total - model.num_timesteps,
reset_num_timesteps=False)` continue bitwise as the run that was never interrupted (tested for DQN,
QR-DQN, PPO and A2C on CPU; the envs must be a `DummyVecEnv`, as `make_vec_env` builds).
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import DummyVecEnv

_COUNTERS = (
    "num_timesteps",
    "_n_updates",
    "_n_calls",  # DQN, QR-DQN: times the target-network syncs
    "_episode_num",
    "exploration_rate",
    "_current_progress_remaining",
)
_REPLAY = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")


def sb3_state(model: BaseAlgorithm, training: bool) -> dict[str, Any]:
    """The policy's tensors and, with `training`, the whole training state (see the module docstring)."""
    state: dict[str, Any] = {"policy": model.policy.state_dict()}
    return state | (_training_state(model) if training else {})


def load_sb3_state(model: BaseAlgorithm, state: dict[str, Any]) -> None:
    """Restore an `sb3_state` into model, freshly built from the same config on its envs."""
    model.policy.load_state_dict(state["policy"])
    if "optimizer" in state:
        _load_training_state(model, state)


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
