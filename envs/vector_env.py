"""Many simulated users per step: the batched env, in torch on the simulator's device.

`RecVectorEnv` runs `recgym.sessions.Sessions` with B users at once. Users who leave (or reach the
horizon) are replaced in the same step by a freshly sampled user, so the batch stays full
(Gymnasium's same-step autoreset). Two faces:

- `step_tensors(actions)`: torch in, torch out, no host round-trip: for on-device agents.
- `step(actions)` / `reset()`: Gymnasium's `VectorEnv` API with NumPy arrays at the boundary, which
  `envs.sb3_vec_env.SB3VecEnv` adapts to stable-baselines3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from envs.rec_env import observation_space, observation_to_numpy, resolve_simulator
from recgym.random import RowStreams
from recgym.sessions import Sessions, StepResult
from recgym.simulators.protocol import UserSimulator


@dataclass(frozen=True)
class TensorStep:
    """One batched step in tensors: the observation after autoreset, and the pre-reset one."""

    observation: dict[str, torch.Tensor]  # next observation; fresh sessions where done
    reward: torch.Tensor  # [B] float32
    terminated: torch.Tensor  # [B] bool
    truncated: torch.Tensor  # [B] bool
    final_observation: dict[str, torch.Tensor]  # [B, ...] observation before the reset (valid where done)
    chosen: torch.Tensor | None = None  # [B] slate position each user chose (k: none); slate envs only


def check_actions(actions: Any, shape: tuple[int, ...], n_items: int) -> np.ndarray:
    """actions as a NumPy array of item ids of the given shape; ValueError naming what is wrong."""
    actions = np.asarray(actions)
    if actions.shape != shape or not np.issubdtype(actions.dtype, np.integer):
        raise ValueError(
            f"actions must be integer item ids of shape {shape}, got {actions.dtype} {actions.shape}"
        )
    if actions.min() < 0 or actions.max() >= n_items:
        raise ValueError(
            f"actions must be item ids in [0, {n_items}), got min {actions.min()} max {actions.max()}"
        )
    return actions


class RecVectorEnv(gym.vector.VectorEnv):
    """B recommendation sessions stepped together on the simulator's device.

    :param simulator: a `UserSimulator`, or the name of a registered one.
    :param num_envs: number of concurrent users B.
    :param horizon: steps after which a session is truncated.
    :param history_len: recent steps in the observation.
    :param simulator_kwargs: keyword arguments when `simulator` is a name.
    :param compile: fuse the step with `torch.compile`. It pays on a GPU (6-7x more user-steps/s
        on an H100, docs/BENCHMARKS.md) and costs on a CPU; the first step compiles (15-30 s).
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(
        self,
        simulator: UserSimulator | str = "world",
        num_envs: int = 1024,
        horizon: int = 50,
        history_len: int = 10,
        simulator_kwargs: dict[str, Any] | None = None,
        compile: bool = False,
    ):
        self.simulator = simulator = resolve_simulator(simulator, simulator_kwargs)
        self.num_envs = num_envs
        self.device = simulator.device
        self.sessions = Sessions(simulator, batch_size=num_envs, history_len=history_len, horizon=horizon)
        self.single_action_space = spaces.Discrete(simulator.n_items)
        self.action_space = spaces.MultiDiscrete(np.full(num_envs, simulator.n_items))
        self.single_observation_space = observation_space(simulator.n_users, simulator.n_items, history_len)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.render_mode = None
        self._rng: RowStreams | None = None
        self._advance = torch.compile(self._advance_eager) if compile else self._advance_eager

    # --- torch face -------------------------------------------------------------------------
    def reset_tensors(self, seed: int | None = None) -> dict[str, torch.Tensor]:
        """Start B fresh sessions; returns the observation as tensors.

        Row r gets the random stream of a single `RecEnv` reset with `seed + r` (Gymnasium's
        convention for vector seeds), so each row replays exactly that env's sessions.
        """
        if seed is not None or self._rng is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0]) if seed is None else seed
            self._rng = RowStreams.from_seeds(torch.arange(self.num_envs) + seed, device=self.device)
        self.sessions.reset(self._rng.next_users(self.simulator.n_users), self._rng)
        return self.sessions.observation()

    def step_tensors(self, actions: torch.Tensor) -> TensorStep:
        """Advance every session by actions [B] (long, on the device); leavers are replaced."""
        if self._rng is None:
            raise RuntimeError("call reset before step")
        return self._advance(actions, self._rng)

    def _advance_eager(self, actions: torch.Tensor, rng: RowStreams) -> TensorStep:
        result = self._step_sessions(actions, rng)
        final = {key: value.clone() for key, value in self.sessions.observation().items()}
        done = result.terminated | result.truncated
        self.sessions.reset_rows(done, rng.next_users(self.simulator.n_users), rng)
        return TensorStep(
            observation=self.sessions.observation(),
            reward=result.reward,
            terminated=result.terminated,
            truncated=result.truncated,
            final_observation=final,
            chosen=getattr(result, "chosen", None),
        )

    def _step_sessions(self, actions: torch.Tensor, rng: RowStreams) -> StepResult:
        return self.sessions.step(actions, rng, check=False)

    # --- Gymnasium face (NumPy at the boundary) ---------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        return observation_to_numpy(self.reset_tensors(seed)), {}

    def step(self, actions):
        actions = check_actions(actions, self.action_space.shape, self.simulator.n_items)
        step = self.step_tensors(torch.as_tensor(actions, device=self.device).long())
        terminated = step.terminated.cpu().numpy()
        truncated = step.truncated.cpu().numpy()
        infos: dict[str, Any] = {}
        done = terminated | truncated
        if done.any():
            final = observation_to_numpy(step.final_observation)
            final_obs = np.full(self.num_envs, None, dtype=object)
            for row in np.flatnonzero(done):
                final_obs[row] = {key: value[row] for key, value in final.items()}
            infos = {"final_obs": final_obs, "_final_obs": done, "final_info": {}, "_final_info": done}
        return observation_to_numpy(step.observation), step.reward.cpu().numpy(), terminated, truncated, infos
