"""Candidate actions: the agent re-ranks the few items a first stage offers, as production recommenders
(candidate generation, then ranking) and RecSim's document sets do; for outside RL libraries.

With one action per catalog item, an MLP's Q-values for 200 items pass through a narrow hidden layer,
and as CleanRL's and Tianshou's DQN evaluate (an argmax, no mask) they keep recommending items already
shown (docs/clients.md). Here, at each step a first stage offers the `k` items ranked highest by a fixed
`order` among those not yet shown: by default the simulator's `item_popularity` (the logs' clicks), so
candidate 0 is exactly what most-popular recommends. Action `i` recommends candidate `i`. The
observation is the dense one (`envs/dense.py`) without its per-item shown part, followed by each
candidate's item vector, so its width does not grow with the catalog:

| part | size | what |
| --- | --- | --- |
| dense | `envs/dense.py`'s less the n_items shown entries | user, profile, recent items, rewards, position |
| candidates | k x d | each candidate's item vector (unit rows), in the order's rank |

`info["candidates"]` holds the k item ids of the observation, `info["item"]` the item the last action
recommended; every candidate may be taken (`info["action_mask"]` is all ones).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from recgym.envs.rec_env import RecEnv, as_int, is_index
from recgym.simulators.protocol import UserSimulator


def popularity_order(simulator: UserSimulator) -> np.ndarray:
    """Item ids by the simulator's `item_popularity`, highest first (ties: lower id first)."""
    popularity = getattr(simulator, "item_popularity", None)
    if not isinstance(popularity, torch.Tensor) or popularity.shape != (simulator.n_items,):
        raise ValueError(
            f"candidate actions need an item order: pass order=, or give {type(simulator).__name__} "
            f"item_popularity [n_items] (docs/custom_simulator.md; make_simulator('world') gives the world "
            "its logs' clicks)"
        )
    return np.argsort(-popularity.cpu().numpy(), kind="stable")


def check_order(order: Any, n_items: int) -> np.ndarray:
    """order as an int64 array if it ranks every item id once; ValueError naming the fault otherwise."""
    ranked = np.asarray(order)
    if ranked.ndim != 1 or not np.issubdtype(ranked.dtype, np.integer):
        raise ValueError(f"order must be a 1-d sequence of item ids, got shape {ranked.shape} {ranked.dtype}")
    if len(ranked) != n_items or not np.array_equal(np.sort(ranked), np.arange(n_items)):
        raise ValueError(f"order must rank each of the {n_items} item ids exactly once")
    return ranked.astype(np.int64)


class CandidateEnv(gym.Wrapper):
    """A `RecEnv` with the dense observation, acting through k candidates (module docstring). Its
    spaces are the candidates' (`Discrete(k)`); `env.unwrapped` is the `RecEnv`, whose are the catalog's.
    One env, one user: recgym's batched envs keep acting on the catalog.

    :param env: a `RecEnv` made with `observation="dense"`, or one `gym.make` wrapped with its checks
        (wrappers that keep the spaces).
    :param k: candidates per step, at most n_items - horizon so that k unshown items remain to the
        session's end.
    :param order: every item id once, best first, the same for every user; None: the simulator's
        `item_popularity`.
    """

    def __init__(self, env: gym.Env, k: int = 20, order: Any = None):
        base = env.unwrapped
        if (
            not isinstance(base, RecEnv)
            or not isinstance(base.action_space, spaces.Discrete)
            or base.dense is None
        ):
            raise ValueError(
                f"CandidateEnv wraps a RecEnv (one item a step) made with observation='dense', got {base!r}"
            )
        if env.observation_space != base.observation_space or env.action_space != base.action_space:
            raise ValueError("CandidateEnv needs the RecEnv's own spaces: wrap it before other wrappers")
        super().__init__(env)
        n_items, horizon = base.simulator.n_items, base.horizon
        if n_items <= horizon:
            raise ValueError(
                f"candidate actions need more items than the horizon: {n_items} items, horizon {horizon}"
            )
        limit = n_items - horizon  # so that k unshown items remain to the session's end
        self.k = as_int(k, "k (at most n_items - horizon)", 1, limit)
        self.order = popularity_order(base.simulator) if order is None else check_order(order, n_items)
        self._vectors = base.dense.item_vectors[1:].cpu().numpy()  # [n_items, d] unit rows
        dense = env.observation_space
        assert isinstance(dense, spaces.Box)
        self._kept = dense.shape[0] - n_items  # the dense parts before the per-item shown entries
        width = self.k * self._vectors.shape[1]
        self.observation_space = spaces.Box(
            np.concatenate([dense.low[: self._kept], np.full(width, -1.0, np.float32)]),
            np.concatenate([dense.high[: self._kept], np.full(width, 1.0, np.float32)]),
            dtype=np.float32,
        )
        self.action_space = spaces.Discrete(self.k)
        self._candidates = np.zeros(0, np.int64)

    def _offer(self, observation: np.ndarray, info: dict[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
        """The candidates of the session's next step (the best unshown items by order), in the
        observation and info."""
        unshown = info["action_mask"].astype(bool)
        self._candidates = self.order[unshown[self.order]][: self.k]
        info["candidates"] = self._candidates.copy()
        info["action_mask"] = np.ones(self.k, np.int8)
        candidates = self._vectors[self._candidates].ravel()
        return np.concatenate([observation[: self._kept], candidates], dtype=np.float32), info

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        observation, info = self.env.reset(seed=seed, options=options)
        return self._offer(observation, info)

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not is_index(action, self.k):
            raise ValueError(f"action must be a candidate index in [0, {self.k}), got {action!r}")
        if len(self._candidates) == 0:
            raise RuntimeError("call reset() before step()")
        item = int(self._candidates[int(action)])
        observation, reward, terminated, truncated, info = self.env.step(item)
        info["item"] = item
        observation, info = self._offer(observation, info)
        return observation, float(reward), terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """[k] bool, all True: every candidate is an item not yet shown (sb3-contrib's MaskablePPO)."""
        return np.ones(self.k, bool)


def make_candidate_env(
    simulator: UserSimulator | str = "world", k: int = 20, order: Any = None, **env_kwargs: Any
) -> CandidateEnv:
    """The entry point of the `-Candidates-v0` ids: a dense `RecEnv` of simulator (with env_kwargs such
    as `horizon`, `simulator_kwargs`) acting through k candidates."""
    if env_kwargs.get("observation", "dense") != "dense":
        raise ValueError("candidate actions read the dense observation; leave observation= unset")
    env_kwargs.pop("observation", None)
    return CandidateEnv(RecEnv(simulator, observation="dense", **env_kwargs), k, order)
