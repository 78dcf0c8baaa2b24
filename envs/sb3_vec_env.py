"""The batched env as a stable-baselines3 `VecEnv`, so DQN and PPO train on thousands of users.

SB3 expects same-step autoreset with the last observation of a finished episode in
`infos[i]["terminal_observation"]` and `infos[i]["TimeLimit.truncated"]` for truncations; this
adapter provides them from `RecVectorEnv`'s tensors. NumPy only at this boundary.

SB3 seeds an env through `VecEnv.seed(seed)` (what `seed=` of an algorithm does) and passes reset
options through `set_options`: both apply to the next `reset` only, as in SB3's `DummyVecEnv`; later
resets continue the rows' random streams.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

from recgym.envs.rec_env import check_options, check_seed, check_users, is_integer, observation_to_numpy
from recgym.envs.vector_env import RecVectorEnv, check_actions


class SB3VecEnv(VecEnv):
    """stable-baselines3 view of a `RecVectorEnv` (one SB3 "env" per simulated user).

    :param env: the batched env.
    :param seed: seed of the first reset, as a later `seed(seed)` would set it.
    """

    def __init__(self, env: RecVectorEnv, seed: int | None = None):
        if not isinstance(env, RecVectorEnv):
            raise TypeError(f"SB3VecEnv wraps a RecVectorEnv (or SlateVectorEnv), got {type(env).__name__}")
        self.env = env
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self._seed = check_seed(seed, env.num_envs)
        self._users: torch.Tensor | None = None
        self._actions: np.ndarray | None = None

    def seed(self, seed: int | None = None) -> list[int | None]:
        """Seed the next reset: row r gets seed + r (`RecVectorEnv`'s convention); None leaves it
        unseeded. ValueError for a bad seed. Returns the rows' seeds, as SB3's `VecEnv.seed`."""
        self._seed = check_seed(seed, self.num_envs)
        return (
            [None] * self.num_envs
            if self._seed is None
            else list(range(self._seed, self._seed + self.num_envs))
        )

    def set_options(self, options: list[dict] | dict | None = None) -> None:
        """Options of the next reset: a dict as `RecVectorEnv.reset` takes it (`{"user": u}`: u in every
        row, or a sequence of B users), or a list of B dicts, one per row, each with its row's user or
        none at all. ValueError naming what is wrong, checked now."""
        if options is None or isinstance(options, Mapping):
            users = check_options(options).get("user")
        elif isinstance(options, list | tuple) and len(options) == self.num_envs:
            users = [check_options(row).get("user") for row in options]
            if all(user is None for user in users):
                users = None
            elif any(user is None for user in users):
                raise ValueError("options['user'] must be given for every row or for none")
        else:
            raise ValueError(
                f"options must be a dict or a list of {self.num_envs} dicts (one per row), "
                f"got {options!r:.80}"
            )
        if users is not None:
            n_users, device = self.env.simulator.n_users, self.env.device
            users = check_users(users, n_users, self.num_envs, "options['user']", device)
        self._users = users

    def reset(self):
        observation = observation_to_numpy(self.env.reset_tensors(self._seed, self._users))
        self._seed, self._users = None, None
        self.reset_infos = [{"user": int(user)} for user in observation["user"][:, 0]]
        return observation

    def step_async(self, actions: np.ndarray) -> None:
        """Take actions [B] ([B, k] for slates); a ValueError naming what is wrong comes before any step."""
        self._actions = check_actions(actions, self.env.action_space.shape or (), self.env.simulator.n_items)

    def step_wait(self):
        if self._actions is None:
            raise RuntimeError("call step_async before step_wait")
        actions = torch.as_tensor(self._actions, device=self.env.device)
        step = self.env.step_tensors(actions, check=True)  # the NumPy boundary syncs anyway
        terminated = step.terminated.cpu().numpy()
        truncated = step.truncated.cpu().numpy()
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            final = observation_to_numpy(step.final_observation)
            for row in np.flatnonzero(dones):
                infos[row]["terminal_observation"] = {key: value[row] for key, value in final.items()}
                infos[row]["TimeLimit.truncated"] = bool(truncated[row])
        return observation_to_numpy(step.observation), step.reward.cpu().numpy(), dones, infos

    def close(self) -> None:
        self.env.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self.env, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        self._require_every_row(indices, "set_attr")
        setattr(self.env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs
    ) -> list[Any]:
        self._require_every_row(indices, "env_method")
        result = getattr(self.env, method_name)(*method_args, **method_kwargs)
        return [result] * len(self._get_indices(indices))

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False] * len(self._get_indices(indices))

    def _get_indices(self, indices: VecEnvIndices) -> list[int]:
        """Row indices: None (every row), one integer or a sequence of them, each in [-B, B) as list
        indices (what SB3's `DummyVecEnv` takes)."""
        if indices is None:
            return list(range(self.num_envs))
        given: Any = [indices] if is_integer(indices) else indices
        if not isinstance(given, Sequence | np.ndarray) or not all(is_integer(row) for row in given):
            raise ValueError(f"indices must be None, a row index or a sequence of them, got {indices!r:.80}")
        rows = [int(row) for row in given]
        if not all(-self.num_envs <= row < self.num_envs for row in rows):
            raise ValueError(
                f"indices must be rows in [-{self.num_envs}, {self.num_envs}), got {indices!r:.80}"
            )
        return [row % self.num_envs for row in rows]

    def _require_every_row(self, indices: VecEnvIndices, method: str) -> None:
        """The rows share one batched env, so what changes it changes every row: refuse a subset."""
        if sorted(set(self._get_indices(indices))) != list(range(self.num_envs)):
            raise ValueError(
                f"{method} reaches every row (they share one {type(self.env).__name__}); "
                f"indices {indices!r:.80} name only some"
            )
