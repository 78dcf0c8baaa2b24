"""One simulated user per env: the batch-of-one case of `recgym.sessions.Sessions`.

Action: one item (`Discrete(n_items)`). Observation (a `Dict`):
- `user` [1] int64: the user's id (a real recommender knows who it serves);
- `recent_items` [H] int64: the last H recommended items as item + 1, 0 for empty slots, oldest first;
- `recent_responses` [H] float32: the reward each of those items earned (click 0/1, or rating).
Reward: the simulator's reward (click by default). Terminated when the user leaves; truncated at
the horizon.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from recgym.random import RowStreams
from recgym.sessions import Sessions
from recgym.simulators.protocol import UserSimulator
from recgym.simulators.registry import make_simulator


def observation_space(n_users: int, n_items: int, history_len: int) -> spaces.Dict:
    """The observation space of recgym envs (shared by agents' feature extractors)."""
    return spaces.Dict(
        {
            "user": spaces.Box(0, n_users - 1, shape=(1,), dtype=np.int64),
            "recent_items": spaces.Box(0, n_items, shape=(history_len,), dtype=np.int64),
            "recent_responses": spaces.Box(-np.inf, np.inf, shape=(history_len,), dtype=np.float32),
        }
    )


def resolve_simulator(simulator: UserSimulator | str, kwargs: dict[str, Any] | None = None) -> UserSimulator:
    """A simulator object, built from the registry when given by name; TypeError if it does not follow
    the `UserSimulator` protocol."""
    if isinstance(simulator, str):
        simulator = make_simulator(simulator, **(kwargs or {}))
    if not isinstance(simulator, UserSimulator):
        raise TypeError(f"{type(simulator).__name__} does not follow the UserSimulator protocol")
    return simulator


def observation_to_numpy(observation: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """A batched observation of `Sessions` as NumPy arrays with the dtypes of `observation_space`."""
    return {
        "user": observation["user"].cpu().numpy().astype(np.int64),
        "recent_items": observation["recent_items"].cpu().numpy().astype(np.int64),
        "recent_responses": observation["recent_responses"].cpu().numpy().astype(np.float32),
    }


class RecEnv(gym.Env):
    """Recommend one item per step to one simulated user until they leave.

    :param simulator: a `UserSimulator`, or the name of a registered one.
    :param horizon: steps after which the session is truncated.
    :param history_len: recent steps in the observation.
    :param simulator_kwargs: keyword arguments when `simulator` is a name.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        simulator: UserSimulator | str = "world",
        horizon: int = 50,
        history_len: int = 10,
        simulator_kwargs: dict[str, Any] | None = None,
    ):
        self.simulator = simulator = resolve_simulator(simulator, simulator_kwargs)
        self.sessions = Sessions(simulator, batch_size=1, history_len=history_len, horizon=horizon)
        self.action_space = spaces.Discrete(simulator.n_items)
        self.observation_space = observation_space(simulator.n_users, simulator.n_items, history_len)
        self._rng: RowStreams | None = None

    def _observation(self) -> dict[str, np.ndarray]:
        return {key: value[0] for key, value in observation_to_numpy(self.sessions.observation()).items()}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None or self._rng is None:
            seed = int(self.np_random.integers(0, 2**62)) if seed is None else seed
            self._rng = RowStreams.from_seeds([seed], device=self.simulator.device)
        user = self._rng.next_users(self.simulator.n_users)
        if options and "user" in options:
            user = torch.tensor([int(options["user"])], device=self.simulator.device)
        self.sessions.reset(user, self._rng)
        return self._observation(), {"user": int(user.item())}

    def step(self, action):
        if self._rng is None:
            raise RuntimeError("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"action {action!r} is not an item id in [0, {self.action_space.n})")
        items = torch.tensor([int(action)], device=self.simulator.device)
        result = self.sessions.step(items, self._rng)
        info = {"click": bool(result.click[0])}
        return (
            self._observation(),
            float(result.reward[0]),
            bool(result.terminated[0]),
            bool(result.truncated[0]),
            info,
        )
