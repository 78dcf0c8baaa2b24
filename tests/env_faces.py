"""Every way to step a recgym env, behind one interface, for the property tests of the envs.

A `Face` builds an env over a simulator and wraps it in a `Driver`: `reset(seed)` and `step(action)`
return NumPy observations (single envs reset themselves when a session ends), and `contains` checks
them against the env's observation space (`contains_final` one user's final observation against the
single env's). Strategies draw valid and malformed actions for a face.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from envs import RecEnv, RecVectorEnv, SlateEnv, SlateVectorEnv
from envs.rec_env import observation_to_numpy
from envs.sb3_vec_env import SB3VecEnv
from recgym.simulators.choice import ChoiceConfig

B, K, HORIZON, HISTORY = 3, 2, 6, 3
Observation = dict[str, np.ndarray]


@dataclass
class Outcome:
    """One step: the next observations, one user's final observations, rewards [B] and dones [B]."""

    observations: list[Observation]
    finals: list[Observation]
    reward: np.ndarray
    done: np.ndarray


class Driver:
    def __init__(self, env: Any):
        self.env = env

    def contains(self, observation: Observation) -> bool:
        return self.env.observation_space.contains(observation)

    def contains_final(self, observation: Observation) -> bool:
        return self.env.single_observation_space.contains(observation)


class Single(Driver):
    def reset(self, seed: int) -> Observation:
        return self.env.reset(seed=seed)[0]

    def step(self, action: Any) -> Outcome:
        observation, reward, terminated, truncated, _ = self.env.step(action)
        done = terminated or truncated
        observations, finals = ([self.env.reset()[0]], [observation]) if done else ([observation], [])
        return Outcome(observations, finals, np.array([reward]), np.array([done]))

    def contains_final(self, observation: Observation) -> bool:
        return self.contains(observation)


class Vector(Driver):
    """Gymnasium's VectorEnv face: NumPy in, NumPy out."""

    def reset(self, seed: int) -> Observation:
        return self.env.reset(seed=seed)[0]

    def step(self, action: Any) -> Outcome:
        observation, reward, terminated, truncated, infos = self.env.step(action)
        done = terminated | truncated
        finals = [infos["final_obs"][row] for row in np.flatnonzero(done)]
        return Outcome([observation], finals, reward, done)


class Tensors(Driver):
    """`step_tensors`, the on-device agents' face (checked, as on a CPU)."""

    def reset(self, seed: int) -> Observation:
        return observation_to_numpy(self.env.reset_tensors(seed))

    def step(self, action: Any) -> Outcome:
        step = self.env.step_tensors(action)
        done = (step.terminated | step.truncated).numpy()
        final = observation_to_numpy(step.final_observation)
        finals = [{key: value[row] for key, value in final.items()} for row in np.flatnonzero(done)]
        return Outcome([observation_to_numpy(step.observation)], finals, step.reward.numpy(), done)


class SB3(Driver):
    """stable-baselines3's VecEnv face; its observation space is the single env's."""

    def reset(self, seed: int) -> Observation:
        self.env = SB3VecEnv(self.env.env if isinstance(self.env, SB3VecEnv) else self.env, seed)
        return self.env.reset()

    def step(self, action: Any) -> Outcome:
        observation, reward, done, infos = self.env.step(action)
        finals = [info["terminal_observation"] for info in infos if "terminal_observation" in info]
        return Outcome([observation], finals, reward, done)

    def contains(self, observation: Observation) -> bool:
        rows = range(len(observation["user"]))
        return all(self.contains_final({k: v[row] for k, v in observation.items()}) for row in rows)

    def contains_final(self, observation: Observation) -> bool:
        return self.env.observation_space.contains(observation)


@dataclass(frozen=True)
class Face:
    name: str
    make: Callable[[Any], Driver]
    shape: tuple[int, ...]  # of one action
    tensors: bool = False

    def __repr__(self) -> str:
        return self.name


SIZES = {"horizon": HORIZON, "history_len": HISTORY}
SLATES = SIZES | {"choice": ChoiceConfig(slate_size=K)}
FACES = [
    Face("RecEnv", lambda sim: Single(RecEnv(sim, **SIZES)), ()),
    Face("SlateEnv", lambda sim: Single(SlateEnv(sim, **SLATES)), (K,)),
    Face("RecVectorEnv", lambda sim: Vector(RecVectorEnv(sim, B, **SIZES)), (B,)),
    Face("SlateVectorEnv", lambda sim: Vector(SlateVectorEnv(sim, B, **SLATES)), (B, K)),
    Face("RecVectorEnv.step_tensors", lambda sim: Tensors(RecVectorEnv(sim, B, **SIZES)), (B,), True),
    Face("SlateVectorEnv.step_tensors", lambda sim: Tensors(SlateVectorEnv(sim, B, **SLATES)), (B, K), True),
    Face("SB3VecEnv(RecVectorEnv)", lambda sim: SB3(RecVectorEnv(sim, B, **SIZES)), (B,)),
    Face("SB3VecEnv(SlateVectorEnv)", lambda sim: SB3(SlateVectorEnv(sim, B, **SLATES)), (B, K)),
]


def valid_actions(face: Face, n_items: int) -> st.SearchStrategy:
    """Item ids: a Python int for the single-item env, arrays (tensors for `step_tensors`) otherwise."""
    if face.shape == ():
        return st.integers(0, n_items - 1)
    ids = arrays(np.int64, face.shape, elements=st.integers(0, n_items - 1))
    return ids.map(torch.from_numpy) if face.tensors else ids


@st.composite
def bad_actions(draw: st.DrawFn, face: Face, n_items: int) -> Any:
    """An action that is wrong in one way: an id out of range, a float, bool or text id, NaN, None,
    the wrong shape, or (for `step_tensors`) not a tensor."""
    action = draw(arrays(np.int64, face.shape, elements=st.integers(0, n_items - 1)))
    kind = draw(st.sampled_from(["out of range", "float", "nan", "bool", "text", "none", "shape", "list"]))
    flat = action.reshape(-1).astype(object)
    at = draw(st.integers(0, flat.size - 1))
    if kind == "out of range":
        big = st.integers(n_items, 2**63 - 1) | st.integers(2**63, 2**70)
        flat[at] = draw(st.integers(-(2**70), -1) | big)
        if face.tensors:  # torch holds int64 only
            return torch.tensor(np.clip(flat.astype(float), -(2**62), 2**62).astype(np.int64)).reshape(
                face.shape
            )
        return flat[0] if face.shape == () else np.array(flat.tolist()).reshape(face.shape)
    if kind in ("float", "nan", "bool"):
        dtype = bool if kind == "bool" else draw(st.sampled_from([np.float32, np.float64]))
        values = action.astype(dtype)
        if kind == "nan":
            values.reshape(-1)[at] = np.nan
        if face.tensors:
            return torch.from_numpy(values)
        return values.item() if face.shape == () and draw(st.booleans()) else values
    if kind == "shape":
        shapes = st.lists(st.integers(0, 4), max_size=3).map(tuple).filter(lambda s: s != face.shape)
        wrong = np.zeros(draw(shapes), dtype=np.int64)
        return torch.from_numpy(wrong) if face.tensors else wrong
    if kind == "text":
        return str(action.tolist()) if face.shape == () else action.astype(str)
    if kind == "list":
        return action.tolist() if face.tensors else [action.tolist(), "x"]
    return None


def same(a: Outcome, b: Outcome) -> bool:
    """Equal observations, rewards and dones (the twin-env comparison)."""
    pairs = list(zip(a.observations + a.finals, b.observations + b.finals, strict=False))
    if len(a.finals) != len(b.finals) or not all(x.keys() == y.keys() for x, y in pairs):
        return False
    observations = all(np.array_equal(x[key], y[key]) for x, y in pairs for key in x)
    return observations and np.array_equal(a.reward, b.reward) and np.array_equal(a.done, b.done)
