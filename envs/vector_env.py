"""Many simulated users per step: the batched env, in torch on the simulator's device.

`RecVectorEnv` runs `recgym.sessions.Sessions` with B users at once. Users who leave (or reach the
horizon) are replaced in the same step by a freshly sampled user, so the batch stays full
(Gymnasium's same-step autoreset). Two faces:

- `step_tensors(actions)`: torch in, torch out, no host round-trip: for on-device agents.
- `step(actions)` / `reset()`: Gymnasium's `VectorEnv` API with NumPy arrays at the boundary, which
  `envs.sb3_vec_env.SB3VecEnv` adapts to stable-baselines3.

Both refuse bad actions and non-finite rewards before the step changes anything (see `step_tensors`
for the one exception, unchecked steps on a GPU), and take the users of a reset as options: one user
for every row or one per row.
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

from recgym.envs.dense import DenseObservation, ObservationKind, check_observation
from recgym.envs.rec_env import (
    as_int,
    check_memory,
    check_options,
    check_seed,
    check_users,
    observation_to_numpy,
    resolve_simulator,
    simulator_observation_space,
)
from recgym.random import RowStreams
from recgym.session_shape import HISTORY_LEN, HORIZON
from recgym.sessions import Sessions, StepResult, check_items
from recgym.simulators.protocol import UserSimulator

CHECK_EVERY = 1024
"""Unchecked steps (`step_tensors` on a GPU) between two reads of the non-finite-reward flag."""


@dataclass(frozen=True)
class TensorStep:
    """One batched step in tensors: the observation after autoreset, and the pre-reset one."""

    observation: dict[str, torch.Tensor]  # next observation; fresh sessions where done
    reward: torch.Tensor  # [B] float32
    terminated: torch.Tensor  # [B] bool
    truncated: torch.Tensor  # [B] bool
    final_observation: dict[str, torch.Tensor]  # [B, ...] observation before the reset (valid where done)
    chosen: torch.Tensor  # [B] slate position each user chose (k: none; a single item is a slate of one)
    item: torch.Tensor  # [B] the item each session moved on with (the chosen one, else the first shown)


def check_actions(actions: Any, shape: tuple[int, ...], n_items: int) -> np.ndarray:
    """actions as an int64 NumPy array of item ids of the given shape, from any integer dtype or nested
    lists of integers; ValueError naming what is wrong (NumPy would read a bool in a list as 0 or 1)."""
    given = actions
    try:
        actions = np.asarray(actions)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"actions must be integer item ids of shape {shape}, got {error}") from None
    if actions.shape != shape or not np.issubdtype(actions.dtype, np.integer):
        raise ValueError(
            f"actions must be integer item ids of shape {shape}, got {actions.dtype} {actions.shape}"
        )
    if not isinstance(given, np.ndarray):
        entries = np.asarray(given, dtype=object).reshape(-1)
        if any(isinstance(entry, bool | np.bool_) for entry in entries):
            raise ValueError(f"actions must be integer item ids, got a bool in {given!r}")
    if actions.min() < 0 or actions.max() >= n_items:
        raise ValueError(
            f"actions must be item ids in [0, {n_items}), got min {actions.min()} max {actions.max()}"
        )
    return actions.astype(np.int64, copy=False)


class RecVectorEnv(gym.vector.VectorEnv):
    """B recommendation sessions stepped together on the simulator's device.

    :param simulator: a `UserSimulator`, or the name of a registered one.
    :param num_envs: number of concurrent users B.
    :param horizon: steps after which a session is truncated.
    :param history_len: recent steps in the observation.
    :param simulator_kwargs: keyword arguments when `simulator` is a name.
    :param compile: fuse the step with `torch.compile`. It pays on a GPU (6-7x more user-steps/s
        on an H100, docs/BENCHMARKS.md) and costs on a CPU; the first step compiles (15-30 s).
    :param observation: what the Gymnasium face (`reset`, `step`) returns: "dict" (ids) or "dense"
        (one float32 vector per row, `envs.dense`). The tensor face always gives the `Dict`'s tensors.
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(
        self,
        simulator: UserSimulator | str = "world",
        num_envs: int = 1024,
        horizon: int = HORIZON,
        history_len: int = HISTORY_LEN,
        simulator_kwargs: dict[str, Any] | None = None,
        compile: bool = False,
        observation: ObservationKind = "dict",
    ):
        observation = check_observation(observation)
        if not isinstance(compile, bool | np.bool_):
            raise TypeError(f"compile must be True or False, got {compile!r}")
        self.simulator = simulator = resolve_simulator(simulator, simulator_kwargs)
        self.num_envs = num_envs = as_int(num_envs, "num_envs")
        horizon, history_len = as_int(horizon, "horizon"), as_int(history_len, "history_len")
        check_memory(simulator, num_envs, history_len, self._action_size())
        self.device = simulator.device
        self.sessions = Sessions(simulator, batch_size=num_envs, history_len=history_len, horizon=horizon)
        self.single_action_space = spaces.Discrete(simulator.n_items)
        self.action_space = spaces.MultiDiscrete(np.full(num_envs, simulator.n_items))
        self._dense = DenseObservation(simulator, history_len, horizon) if observation == "dense" else None
        self.single_observation_space: spaces.Space = (
            simulator_observation_space(simulator, history_len) if self._dense is None else self._dense.space
        )
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.render_mode = None
        self._rng: RowStreams | None = None
        self._advance = torch.compile(self._advance_eager) if compile else self._advance_eager
        self._non_finite = torch.zeros((), dtype=torch.bool, device=self.device)  # seen in unchecked steps
        self._unchecked = 0

    def _action_size(self) -> int:
        """Item ids per row's action (the slate env's k), for the memory estimate."""
        return 1

    # --- torch face -------------------------------------------------------------------------
    def reset_tensors(self, seed: int | None = None, users: Any = None) -> dict[str, torch.Tensor]:
        """Start B fresh sessions, of `users` (one user id for every row, or [B] ids) or of random
        users; returns the observation as tensors. ValueError for a bad seed or users, nothing changed.

        Row r gets the random stream of a single `RecEnv` reset with `seed + r` (Gymnasium's
        convention for vector seeds), so each row replays exactly that env's sessions.
        """
        seed = check_seed(seed, self.num_envs)
        if users is not None:
            users = check_users(users, self.simulator.n_users, self.num_envs, "users", self.device)
        return self._start(seed, users)

    def _start(self, seed: int | None, users: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """`reset_tensors` once its arguments are checked."""
        self._read_non_finite_flag()
        if seed is not None or self._rng is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0]) if seed is None else seed
            self._rng = RowStreams.from_seeds(torch.arange(self.num_envs) + seed, device=self.device)
        users = self._rng.next_users(self.simulator.n_users) if users is None else users
        self.sessions.reset(users, self._rng)
        return self.sessions.observation()

    def step_tensors(self, actions: torch.Tensor, check: bool | None = None) -> TensorStep:
        """Advance every session by actions [B] (int64 or int32 item ids); leavers are replaced.

        The actions' type, shape and dtype are always checked, which is free. `check` (default: on a
        CPU device) also checks the ids' range and the rewards' finiteness, each a host round-trip on a
        GPU: a bad id raises `ValueError` and a non-finite reward `FloatingPointError`, the step not
        taken. Unchecked, an id out of range trips torch's device-side assert, and non-finite rewards
        set a flag on the device that is read every `CHECK_EVERY` steps and at reset: it raises
        `FloatingPointError` then, the sessions since stepped with that reward (reset to go on).
        """
        if self._rng is None:
            raise RuntimeError("call reset before step")
        check = self.device.type == "cpu" if check is None else check
        check_items(actions, self.action_space.shape or (), self.simulator.n_items, values=check)
        step = self._advance(actions, self._rng, check)
        if not check:
            self._non_finite |= ~torch.isfinite(step.reward).all()
            self._unchecked += 1
            if self._unchecked >= CHECK_EVERY:
                self._read_non_finite_flag()
        return step

    def _read_non_finite_flag(self) -> None:
        """Raise if an unchecked step since the last read had a non-finite reward (a host round-trip)."""
        unchecked, self._unchecked = self._unchecked, 0
        if unchecked and bool(self._non_finite):
            self._non_finite.zero_()
            raise FloatingPointError(
                f"the simulator returned a non-finite reward in one of the last {unchecked} unchecked steps; "
                "the sessions went on with it: reset the env"
            )

    def _advance_eager(self, actions: torch.Tensor, rng: RowStreams, check: bool) -> TensorStep:
        result = self._step_sessions(actions, rng, check)
        final = {key: value.clone() for key, value in self.sessions.observation().items()}
        done = result.terminated | result.truncated
        self.sessions.reset_rows(done, rng.next_users(self.simulator.n_users), rng)
        return TensorStep(
            observation=self.sessions.observation(),
            reward=result.reward,
            terminated=result.terminated,
            truncated=result.truncated,
            final_observation=final,
            chosen=result.chosen,
            item=result.item,
        )

    def _step_sessions(self, actions: torch.Tensor, rng: RowStreams, check: bool) -> StepResult:
        return self.sessions.step(actions, rng, check=check)

    def observation_tensors(self) -> dict[str, torch.Tensor]:
        """The current observation of the B sessions (fresh ones where a session just ended)."""
        return self.sessions.observation()

    def action_masks(self) -> torch.Tensor:
        """[B, n_items] bool: True where an item may still be recommended in each row's session (not yet
        shown). The name and the convention are those of Gymnasium and sb3-contrib's MaskablePPO."""
        return self.sessions.action_mask()

    @property
    def history_len(self) -> int:
        return self.sessions.history_len

    @property
    def horizon(self) -> int:
        return self.sessions.horizon

    def state_dict(self) -> dict[str, Any]:
        """The sessions and random streams as tensors: with the (stateless) simulator, all that the
        next steps depend on, so a checkpointed run continues exactly."""
        rng = None if self._rng is None else self._rng.state_dict()
        return {"sessions": self.sessions.state_dict(), "rng": rng}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()` of an env of the same shape; ValueError naming what does not fit."""
        self.sessions.load_state_dict(state["sessions"])
        if state["rng"] is None:
            self._rng = None
            return
        self._rng = RowStreams(torch.zeros(self.num_envs, dtype=torch.int64, device=self.device))
        self._rng.load_state_dict(state["rng"])

    # --- Gymnasium face (NumPy at the boundary) ---------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start B sessions (`options={"user": u}`: user u in every row, or a sequence of B users);
        ValueError for a bad seed, option or user, raised before anything changes."""
        seed = check_seed(seed, self.num_envs)
        users = check_options(options).get("user")
        if users is not None:
            users = check_users(users, self.simulator.n_users, self.num_envs, "options['user']", self.device)
        super().reset(seed=seed)
        tensors = self._start(seed, users)
        users_now = tensors["user"][:, 0].cpu().numpy()  # each row's user, as the single env's info has it
        info = {"user": users_now, "_user": np.ones(self.num_envs, dtype=bool)}
        return self._numpy_observation(tensors, self.sessions.length, self.sessions.shown), info

    def _numpy_observation(
        self, tensors: dict[str, torch.Tensor], steps: torch.Tensor, shown: torch.Tensor | None
    ) -> dict[str, np.ndarray] | np.ndarray:
        """What the Gymnasium face returns for the observation tensors of rows that took steps [B] and
        were shown the items of shown [B, n_items] (needed by the dense observation only)."""
        if self._dense is None:
            return observation_to_numpy(tensors)
        assert shown is not None
        return self._dense(tensors, steps, shown).cpu().numpy()

    def step(self, actions):
        actions = check_actions(actions, self.action_space.shape, self.simulator.n_items)
        items = torch.as_tensor(actions, device=self.device).long()
        steps_before = self.sessions.length.clone()
        shown_before = self.sessions.shown.clone() if self._dense is not None else None
        step = self.step_tensors(items, check=True)
        terminated = step.terminated.cpu().numpy()
        truncated = step.truncated.cpu().numpy()
        infos: dict[str, Any] = {}
        done = terminated | truncated
        if done.any():
            shown_after = None if shown_before is None else shown_before.scatter_(1, step.item[:, None], True)
            final = self._numpy_observation(step.final_observation, steps_before + 1, shown_after)
            final_obs = np.full(self.num_envs, None, dtype=object)
            for row in np.flatnonzero(done):
                final_obs[row] = (
                    final[row] if self._dense is not None else {k: v[row] for k, v in final.items()}
                )
            infos = {"final_obs": final_obs, "_final_obs": done, "final_info": {}, "_final_info": done}
        observation = self._numpy_observation(step.observation, self.sessions.length, self.sessions.shown)
        return observation, step.reward.cpu().numpy(), terminated, truncated, infos
