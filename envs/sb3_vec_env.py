"""The batched env as a stable-baselines3 `VecEnv`, so DQN and PPO train on thousands of users.

SB3 expects same-step autoreset with the last observation of a finished episode in
`infos[i]["terminal_observation"]` and `infos[i]["TimeLimit.truncated"]` for truncations; this
adapter provides them from `RecVectorEnv`'s tensors. NumPy only at this boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices

from envs.rec_env import observation_to_numpy
from envs.vector_env import RecVectorEnv, check_actions


class SB3VecEnv(VecEnv):
    """stable-baselines3 view of a `RecVectorEnv` (one SB3 "env" per simulated user).

    :param env: the batched env.
    :param seed: seed of the first reset (SB3 calls `reset` without one).
    """

    def __init__(self, env: RecVectorEnv, seed: int | None = None):
        self.env = env
        super().__init__(env.num_envs, env.single_observation_space, env.single_action_space)
        self._seed = seed
        self._actions: np.ndarray | None = None

    def reset(self):
        observation = self.env.reset_tensors(self._seed)
        self._seed = None
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return observation_to_numpy(observation)

    def step_async(self, actions: np.ndarray) -> None:
        """Take actions [B] ([B, k] for slates); a ValueError naming what is wrong comes before any step."""
        self._actions = check_actions(actions, self.env.action_space.shape or (), self.env.simulator.n_items)

    def step_wait(self):
        assert self._actions is not None, "step_async must come first"
        actions = torch.as_tensor(self._actions, device=self.env.device).long()
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
        setattr(self.env, attr_name, value)

    def env_method(
        self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs
    ) -> list[Any]:
        result = getattr(self.env, method_name)(*method_args, **method_kwargs)
        return [result] * len(self._get_indices(indices))

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False] * len(self._get_indices(indices))

    def _get_indices(self, indices: VecEnvIndices) -> Sequence[int]:
        if indices is None:
            return range(self.num_envs)
        return [indices] if isinstance(indices, int) else list(indices)
