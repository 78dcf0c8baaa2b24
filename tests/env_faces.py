"""Every way to step a recgym env, behind one interface, for the property tests of the envs.

A `Face` builds an env over a simulator (any sizes, NumPy integers too) and wraps it in a `Driver`:
`reset(seed, user)` and `step(action)` return NumPy observations (single envs reset themselves when a
session ends), `reset_with(seed, options)` passes reset options the face's way, and `contains` checks
them against the env's observation space (`contains_final` one user's final observation against the
single env's). Strategies draw valid and malformed actions, and malformed options, for a face.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recgym.envs import RecEnv, RecVectorEnv, SlateEnv, SlateVectorEnv
from recgym.envs.rec_env import observation_to_numpy
from recgym.envs.sb3_vec_env import SB3VecEnv
from recgym.simulators.choice import ChoiceConfig

B, K, HORIZON, HISTORY = 3, 2, 6, 3
Observation = dict[str, np.ndarray]
NUMPY_INTS = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]


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
    def reset(self, seed: Any, user: Any = None) -> Observation:
        return self.env.reset(seed=seed, options=None if user is None else {"user": user})[0]

    def reset_with(self, seed: Any, options: Any) -> Observation:
        return self.env.reset(seed=seed, options=options)[0]

    def step(self, action: Any) -> Outcome:
        observation, reward, terminated, truncated, _ = self.env.step(action)
        done = terminated or truncated
        observations, finals = ([self.env.reset()[0]], [observation]) if done else ([observation], [])
        return Outcome(observations, finals, np.array([reward]), np.array([done]))

    def contains_final(self, observation: Observation) -> bool:
        return self.contains(observation)


class Vector(Driver):
    """Gymnasium's VectorEnv face: NumPy in, NumPy out."""

    def reset(self, seed: Any, user: Any = None) -> Observation:
        return self.env.reset(seed=seed, options=None if user is None else {"user": user})[0]

    def reset_with(self, seed: Any, options: Any) -> Observation:
        return self.env.reset(seed=seed, options=options)[0]

    def step(self, action: Any) -> Outcome:
        observation, reward, terminated, truncated, infos = self.env.step(action)
        done = terminated | truncated
        finals = [infos["final_obs"][row] for row in np.flatnonzero(done)]
        return Outcome([observation], finals, reward, done)


class Tensors(Driver):
    """`step_tensors`, the on-device agents' face (checked, as on a CPU)."""

    def reset(self, seed: Any, user: Any = None) -> Observation:
        return observation_to_numpy(self.env.reset_tensors(seed, users=user))

    def reset_with(self, seed: Any, options: Any) -> Observation:
        """The torch face takes users, not an options dict: only `{"user": ...}` applies."""
        return self.reset(seed, options["user"])

    def step(self, action: Any) -> Outcome:
        step = self.env.step_tensors(action)
        done = (step.terminated | step.truncated).numpy()
        final = observation_to_numpy(step.final_observation)
        finals = [{key: value[row] for key, value in final.items()} for row in np.flatnonzero(done)]
        return Outcome([observation_to_numpy(step.observation)], finals, step.reward.numpy(), done)


class SB3(Driver):
    """stable-baselines3's VecEnv face; its observation space is the single env's."""

    def __init__(self, env: Any):
        super().__init__(SB3VecEnv(env))

    def reset(self, seed: Any, user: Any = None) -> Observation:
        return self.reset_with(seed, None if user is None else {"user": user})

    def reset_with(self, seed: Any, options: Any) -> Observation:
        """SB3's way: `set_options` and `seed` for the next `reset`."""
        if options is not None:
            self.env.set_options(options)
        self.env.seed(seed)
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
    build: Callable[..., Any]  # (simulator, num_envs, horizon, history_len) -> env
    driver: type[Driver]
    batched: bool
    slate: bool
    tensors: bool = False

    def make(
        self, simulator: Any, num_envs: Any = B, horizon: Any = HORIZON, history_len: Any = HISTORY
    ) -> Any:
        """A driver over this face's env (num_envs is ignored by the single envs)."""
        return self.driver(self.build(simulator, num_envs, horizon, history_len))

    def action_shape(self, num_envs: int = B) -> tuple[int, ...]:
        return ((num_envs,) if self.batched else ()) + ((K,) if self.slate else ())

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one action of the envs `make` builds by default."""
        return self.action_shape()

    def __repr__(self) -> str:
        return self.name


SLATE = {"choice": ChoiceConfig(slate_size=K)}


FACES = [
    Face("RecEnv", lambda sim, b, h, n: RecEnv(sim, h, n), Single, False, False),
    Face("SlateEnv", lambda sim, b, h, n: SlateEnv(sim, h, n, **SLATE), Single, False, True),
    Face("RecVectorEnv", lambda sim, b, h, n: RecVectorEnv(sim, b, h, n), Vector, True, False),
    Face("SlateVectorEnv", lambda sim, b, h, n: SlateVectorEnv(sim, b, h, n, **SLATE), Vector, True, True),
    Face(
        "RecVectorEnv.step_tensors",
        lambda sim, b, h, n: RecVectorEnv(sim, b, h, n),
        Tensors,
        True,
        False,
        True,
    ),
    Face(
        "SlateVectorEnv.step_tensors",
        lambda sim, b, h, n: SlateVectorEnv(sim, b, h, n, **SLATE),
        Tensors,
        True,
        True,
        True,
    ),
    Face("SB3VecEnv(RecVectorEnv)", lambda sim, b, h, n: RecVectorEnv(sim, b, h, n), SB3, True, False),
    Face(
        "SB3VecEnv(SlateVectorEnv)",
        lambda sim, b, h, n: SlateVectorEnv(sim, b, h, n, **SLATE),
        SB3,
        True,
        True,
    ),
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


@st.composite
def bad_options(draw: st.DrawFn, face: Face, n_users: int) -> Any:
    """Reset options that are wrong in one way: not a dict, an unknown key, or a bad user (a dict holding
    it; the bare users for `step_tensors`, which takes no options)."""
    kind = "user" if face.tensors else draw(st.sampled_from(["not a dict", "unknown key", "user"]))
    if kind == "not a dict":
        return draw(
            st.lists(st.integers(0, 3), max_size=2) | st.integers() | st.text(max_size=3) | st.just(())
        )
    if kind == "unknown key":
        key = draw(st.text(max_size=4).filter(lambda key: key != "user") | st.integers())
        return {key: 0} | draw(st.sampled_from([{}, {"user": 0}]))
    return {"user": draw(bad_users(B if face.batched else 1, n_users))}


@st.composite
def bad_users(draw: st.DrawFn, rows: int, n_users: int) -> Any:
    """Users that are wrong in one way for `rows` rows: out of range, not integers (bools, floats, text,
    None in a list), the wrong length or rank, or a bool or float array."""
    out = st.integers(max_value=-1) | st.integers(min_value=n_users) | st.integers(min_value=2**63)
    kind = draw(st.sampled_from(["out", "numpy out", "not int", "length", "bad entry", "array"]))
    if kind == "out":
        return draw(out)
    if kind == "numpy out":
        dtype = draw(st.sampled_from(NUMPY_INTS))
        low, high = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
        values = st.integers(n_users, high) | (st.integers(low, -1) if low < 0 else st.nothing())
        return dtype(draw(values))
    if kind == "not int":
        return draw(
            st.floats()
            | st.booleans()
            | st.text(max_size=3)
            | st.just(np.bool_(False))
            | st.just(np.float64(1))
        )
    users = st.integers(0, n_users - 1)
    if kind == "length":
        lengths = st.integers(0, rows + 2).filter(lambda length: length != rows)
        return draw(lengths.flatmap(lambda length: st.lists(users, min_size=length, max_size=length)))
    if kind == "bad entry":
        entries = draw(st.lists(users, min_size=rows, max_size=rows))
        entries[draw(st.integers(0, rows - 1))] = draw(
            out | st.booleans() | st.floats() | st.none() | st.just([0])
        )
        return entries
    good = np.array(draw(st.lists(users, min_size=rows, max_size=rows)))
    return draw(
        st.sampled_from([good.astype(float), good.astype(bool), good[None, :], good[:, None].repeat(2, 1)])
    )


def same_observation(a: Observation, b: Observation) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[key], b[key]) for key in a)


def same(a: Outcome, b: Outcome) -> bool:
    """Equal observations, rewards and dones (the twin-env comparison)."""
    pairs = list(zip(a.observations + a.finals, b.observations + b.finals, strict=False))
    if len(a.finals) != len(b.finals) or not all(x.keys() == y.keys() for x, y in pairs):
        return False
    observations = all(np.array_equal(x[key], y[key]) for x, y in pairs for key in x)
    return observations and np.array_equal(a.reward, b.reward) and np.array_equal(a.done, b.done)
