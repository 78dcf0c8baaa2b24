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
from recgym.sessions import Sessions, StepResult
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


def is_index(value: Any, n: int) -> bool:
    """Whether value is an integer in [0, n), Python or NumPy (a 0-d array too), and not a bool.

    Gymnasium's `Discrete.contains` takes True for item 1 and overflows on Python ints beyond int64.
    """
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    return isinstance(value, int | np.integer) and not isinstance(value, bool) and bool(0 <= value < n)


def check_seed(seed: Any, rows: int = 1) -> None:
    """ValueError unless seed is None or an integer >= 0 whose rows' seeds (seed + r) fit in int64."""
    if seed is not None and not is_index(seed, 2**63 - rows + 1):
        raise ValueError(f"seed must be None or an integer in [0, {2**63 - rows}], got {seed!r}")


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
        self._ended = False

    def _observation(self) -> dict[str, np.ndarray]:
        return {key: value[0] for key, value in observation_to_numpy(self.sessions.observation()).items()}

    def state_dict(self) -> dict[str, Any]:
        """The session and its random stream as tensors: all the next steps depend on (checkpoints)."""
        rng = None if self._rng is None else self._rng.state_dict()
        return {"sessions": self.sessions.state_dict(), "rng": rng, "ended": self._ended}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()` of an env of the same shape; ValueError naming what does not fit."""
        self.sessions.load_state_dict(state["sessions"])
        self._rng = None
        if state["rng"] is not None:
            self._rng = RowStreams(torch.zeros(1, dtype=torch.int64, device=self.simulator.device))
            self._rng.load_state_dict(state["rng"])
        self._ended = state["ended"]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a session (`options={"user": u}` picks its user); ValueError for a bad seed or user,
        raised before anything changes."""
        check_seed(seed)
        chosen = (options or {}).get("user")
        if chosen is not None and not is_index(chosen, self.simulator.n_users):
            raise ValueError(
                f"user ids must be in [0, {self.simulator.n_users}): options['user'] is {chosen!r}"
            )
        seed = None if seed is None else int(seed)
        super().reset(seed=seed)
        if seed is not None or self._rng is None:
            seed = int(self.np_random.integers(0, 2**62)) if seed is None else seed
            self._rng = RowStreams.from_seeds([seed], device=self.simulator.device)
        user = self._rng.next_users(self.simulator.n_users)
        if chosen is not None:
            user = torch.tensor([int(chosen)], device=self.simulator.device)
        self.sessions.reset(user, self._rng)
        self._ended = False
        return self._observation(), {"user": int(user.item())}

    def step(self, action):
        self._require_session()
        if not is_index(action, self.simulator.n_items):
            raise ValueError(f"action {action!r} is not an item id in [0, {self.action_space.n})")
        items = torch.tensor([int(action)], device=self.simulator.device)
        result = self.sessions.step(items, self._rng)
        return self._outcome(result, {"click": bool(result.click[0])})

    def _require_session(self) -> None:
        """A user who left stays gone: stepping an ended session is an error, not a resurrection."""
        if self._rng is None:
            raise RuntimeError("call reset() before step()")
        if self._ended:
            raise RuntimeError(
                "the session has ended (the user left or the horizon was reached); call reset()"
            )

    def _outcome(self, result: StepResult, info: dict[str, Any]) -> tuple:
        """The Gymnasium step tuple of the session's row 0; marks the session ended when it is."""
        terminated, truncated = bool(result.terminated[0]), bool(result.truncated[0])
        self._ended = terminated or truncated
        return self._observation(), float(result.reward[0]), terminated, truncated, info
