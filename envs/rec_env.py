"""One simulated user per env: the batch-of-one case of `recgym.sessions.Sessions`.

Action: one item (`Discrete(n_items)`). Observation (a `Dict`):
- `user` [1] int64: the user's id (a real recommender knows who it serves);
- `recent_items` [H] int64: the last H recommended items as item + 1, 0 for empty slots, oldest first;
- `recent_responses` [H] float32: the reward each of those items earned (click 0/1, or rating).
Reward: the simulator's reward (click by default). Terminated when the user leaves; truncated at
the horizon. `info["action_mask"]` [n_items] int8 marks the items that may still be recommended (not
yet shown in the session), Gymnasium's convention; `action_masks()` gives it as bools.
`render_mode="ansi"` renders the session as one line of text, `render_mode="rgb_array"` as a small
picture (`envs.render`: the recent steps, their clicks, the session's progress).

This module also holds the checks every recgym env applies to what users pass: sizes, seeds, users and
options are taken as Python or NumPy integers and stored as plain ints; anything else raises an error
naming the argument before the env changes.
"""

from __future__ import annotations

import os
import reprlib
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from recgym.compiled_step import CompiledStep, compiled_step
from recgym.envs.dense import DenseObservation, ObservationKind, check_observation
from recgym.envs.render import SessionPicture
from recgym.random import RowStreams
from recgym.session_shape import HISTORY_LEN, HORIZON
from recgym.sessions import Sessions, StepResult
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.protocol import UserSimulator
from recgym.simulators.registry import make_simulator


def observation_space(
    n_users: int, n_items: int, history_len: int, rewards: tuple[float, float] = (-np.inf, np.inf)
) -> spaces.Dict:
    """The observation space of recgym envs (shared by agents' feature extractors); `rewards` bounds
    what one step pays (`response_bounds`), empty history slots holding 0."""
    low, high = min(rewards[0], 0.0), max(rewards[1], 0.0)
    return spaces.Dict(
        {
            "user": spaces.Box(0, n_users - 1, shape=(1,), dtype=np.int64),
            "recent_items": spaces.Box(0, n_items, shape=(history_len,), dtype=np.int64),
            "recent_responses": spaces.Box(low, high, shape=(history_len,), dtype=np.float32),
        }
    )


def simulator_observation_space(simulator: UserSimulator, history_len: int) -> spaces.Dict:
    """The observation space of envs over simulator: its rewards bound the responses when it says what
    one step can pay (an optional `reward_range` attribute), else they are unbounded."""
    rewards = getattr(simulator, "reward_range", (-np.inf, np.inf))
    return observation_space(simulator.n_users, simulator.n_items, history_len, rewards)


def resolve_simulator(simulator: UserSimulator | str, kwargs: Any = None) -> UserSimulator:
    """A simulator object, built from the registry when given by name; TypeError if it does not follow
    the `UserSimulator` protocol."""
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise TypeError(f"simulator_kwargs must be a dict of keyword arguments, got {type(kwargs).__name__}")
    if isinstance(simulator, str):
        simulator = make_simulator(simulator, **(kwargs or {}))
    if not isinstance(simulator, UserSimulator):
        raise TypeError(f"{type(simulator).__name__} does not follow the UserSimulator protocol")
    return simulator


INT64_MAX = 2**63 - 1


def is_integer(value: Any) -> bool:
    """Whether value is an integer, Python or NumPy (a 0-d array too), and not a bool.

    Gymnasium's `Discrete.contains` takes True for item 1 and overflows on Python ints beyond int64.
    """
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def is_index(value: Any, n: int) -> bool:
    """Whether value is an integer (`is_integer`) in [0, n)."""
    return is_integer(value) and 0 <= int(value) < n


def as_int(value: Any, name: str, low: int = 1, high: int = INT64_MAX) -> int:
    """value as a plain int; ValueError naming `name` unless it is an integer (`is_integer`) in
    [low, high]."""
    if not (is_integer(value) and low <= int(value) <= high):
        raise ValueError(f"{name} must be an integer in [{low:,}, {high:,}], got {reprlib.repr(value)}")
    return int(value)


def check_seed(seed: Any, rows: int = 1) -> int | None:
    """seed as a plain int (or None); ValueError unless it is None or an integer >= 0 whose rows' seeds
    (seed + r) fit in int64."""
    if seed is not None and not is_index(seed, 2**63 - rows + 1):
        raise ValueError(f"seed must be None or an integer in [0, {2**63 - rows}], got {reprlib.repr(seed)}")
    return None if seed is None else int(seed)


def check_options(options: Any, known: tuple[str, ...] = ("user",)) -> Mapping[str, Any]:
    """options as a mapping (None: empty); ValueError unless it is a dict whose keys are all known."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise ValueError(
            f"options must be a dict such as {{'user': 3}}, or None; got {type(options).__name__}"
        )
    unknown = [key for key in options if key not in known]
    if unknown:
        raise ValueError(f"unknown option {reprlib.repr(unknown[0])}: the options are {', '.join(known)}")
    return options


def check_users(users: Any, n_users: int, rows: int, name: str, device: torch.device) -> torch.Tensor:
    """users [rows] long on device, from one user id for every row or one per row (a sequence, array or
    tensor of integers); ValueError naming `name` for anything else (bools, floats, ids out of range)."""
    given = users
    if isinstance(users, torch.Tensor):
        users = users.detach().cpu().numpy()
    if is_integer(users):
        values = [int(users)] * rows
    elif isinstance(users, np.ndarray) and users.ndim == 1 and np.issubdtype(users.dtype, np.integer):
        values = users.tolist()
    elif isinstance(users, list | tuple) and all(is_integer(user) for user in users):
        values = [int(user) for user in users]
    else:
        values = []
    if len(values) != rows or min(values) < 0 or max(values) >= n_users:
        raise ValueError(
            f"{name} must be one of the user ids in [0, {n_users}) or a sequence of {rows} of them "
            f"(one per row), got {reprlib.repr(given)}"
        )
    return torch.tensor(values, dtype=torch.long, device=device)


def available_bytes(device: torch.device) -> int | None:
    """Memory the envs may fill on device: free memory of a CUDA device, physical memory of the host;
    None where it cannot be known."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    if device.type != "cpu":
        return None
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None


def _bytes(n: int) -> str:
    """n bytes in the largest binary unit (up to ZiB) that keeps the number at least 1."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB"]
    power = 0
    while power < len(units) - 1 and n >= 1024 ** (power + 1):
        power += 1
    return f"{n:,} B" if power == 0 else f"{n / 1024**power:,.1f} {units[power]}"


def check_memory(simulator: UserSimulator, rows: int, history_len: int, action_size: int = 1) -> None:
    """ValueError, before anything is allocated, unless `rows` sessions fit in memory.

    Per user, on the simulator's device: the shown mask [n_items] bool, the history [H] int64 and
    [H] float32, the user, step and three stream counters (int64), and the simulator's state (sized
    from a fresh state of user 0). On the host: the observation space's bounds and one NumPy
    observation (36 bytes per history slot), and the actions. Torch would otherwise fail with an
    allocator error, or an overflow, that names no argument.
    """
    name = type(simulator).__name__
    as_int(simulator.n_users, f"{name}.n_users")  # user 0 must exist for the state's size
    n_items = as_int(simulator.n_items, f"{name}.n_items")
    device = torch.device(simulator.device)
    users = torch.zeros(1, dtype=torch.long, device=device)
    state = simulator.initial_state(users, RowStreams.from_seeds([0], device=device))
    state_bytes = sum(value[:1].numel() * value.element_size() for value in state.values())
    on_device = n_items + 12 * history_len + 5 * 8 + state_bytes
    on_host = 36 * history_len + 32 + 8 * action_size
    if device.type == "cpu":
        budgets = [(device, on_device + on_host)]
    else:
        budgets = [(device, on_device), (torch.device("cpu"), on_host)]
    for where, per_user in budgets:
        available = available_bytes(where)
        if available is not None and rows * per_user > available:
            fit = available // per_user
            advice = (
                f"num_envs={fit:,} is the most that could fit" if fit else "not one fits: lower history_len"
            )
            users_text = f"{rows:,} user" + ("s" if rows > 1 else "")
            raise ValueError(
                f"{users_text} with history_len={history_len:,} over {n_items:,} items need about "
                f"{_bytes(per_user)} per user, {_bytes(rows * per_user)} in all: more than the "
                f"{_bytes(available)} of memory on {where}; {advice}"
            )


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
    :param render_mode: None; "ansi": `render()` returns the session as a line of text; "rgb_array": as a
        picture, uint8 [height, width, 3] of a size fixed by the env (`envs.render`).
    :param observation: "dict" (ids, for recgym's agents) or "dense" (one float32 vector any MLP can
        learn from, for outside RL libraries: `envs.dense`).
    :param compile: step through the session step compiled ahead of time (`recgym.compiled_step`): the
        same sessions (fused sums may round differently in the last bit) at about 7x the steps/s on a
        CPU (docs/BENCHMARKS.md); the first step compiles (10-20 s, with a C++ compiler), once per
        simulator in a process. Measured on CPUs only.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        simulator: UserSimulator | str = "world",
        horizon: int = HORIZON,
        history_len: int = HISTORY_LEN,
        simulator_kwargs: dict[str, Any] | None = None,
        render_mode: str | None = None,
        observation: ObservationKind = "dict",
        compile: bool = False,
    ):
        observation = check_observation(observation)
        if not isinstance(compile, bool | np.bool_):
            raise TypeError(f"compile must be True or False, got {compile!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        self.render_mode = render_mode
        self.simulator = simulator = resolve_simulator(simulator, simulator_kwargs)
        horizon, history_len = as_int(horizon, "horizon"), as_int(history_len, "history_len")
        check_memory(simulator, 1, history_len, self._action_size())
        self.sessions = Sessions(simulator, batch_size=1, history_len=history_len, horizon=horizon)
        self.action_space = spaces.Discrete(simulator.n_items)
        self._dense = DenseObservation(simulator, history_len, horizon) if observation == "dense" else None
        self.observation_space: spaces.Space = (
            simulator_observation_space(simulator, history_len) if self._dense is None else self._dense.space
        )
        self._rng: RowStreams | None = None
        self._ended = False
        self._compile = bool(compile)
        self._compiled: CompiledStep | None = None
        self._picture = (
            SessionPicture(history_len, self._action_size()) if render_mode == "rgb_array" else None
        )

    def _action_size(self) -> int:
        """Item ids per action (the slate env's k), for the memory estimate and the picture's cells."""
        return 1

    def _observation(self) -> dict[str, np.ndarray] | np.ndarray:
        if self._dense is not None:
            return self._dense_of(self.sessions)[0].cpu().numpy()
        return self._dict_observation()

    def _dict_observation(self) -> dict[str, np.ndarray]:
        """The `Dict` observation of the session (`observation_to_numpy`'s row, read directly: a single
        env's step is bound by such fixed costs)."""
        sessions = self.sessions
        return {
            "user": sessions.users.cpu().numpy().astype(np.int64),
            "recent_items": sessions.history_items.cpu().numpy()[0].astype(np.int64),
            "recent_responses": sessions.history_responses.cpu().numpy()[0].astype(np.float32),
        }

    @property
    def dense(self) -> DenseObservation | None:
        """What makes the dense observation (its item vectors and layout) when there is one, else None."""
        return self._dense

    @property
    def history_len(self) -> int:
        return self.sessions.history_len

    @property
    def horizon(self) -> int:
        return self.sessions.horizon

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
        if self._picture is not None:
            self._picture.clear()  # the picture records steps, not restored ones

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start a session (`options={"user": u}` picks its user); ValueError for a bad seed, option or
        user, raised before anything changes."""
        seed = check_seed(seed)
        chosen = check_options(options).get("user")
        device = self.simulator.device
        if chosen is not None:
            chosen = check_users(chosen, self.simulator.n_users, 1, "options['user']", device)
        super().reset(seed=seed)
        if seed is not None or self._rng is None:
            seed = int(self.np_random.integers(0, 2**62)) if seed is None else seed
            self._rng = RowStreams.from_seeds([seed], device=device)
        user = self._rng.next_users(self.simulator.n_users)
        if chosen is not None:
            user = chosen
        self.sessions.reset(user, self._rng)
        self._ended = False
        if self._picture is not None:
            self._picture.clear()
        return self._observation(), {"user": int(user.item()), "action_mask": self._mask_info()}

    def step(self, action):
        self._require_session()
        if not is_index(action, self.simulator.n_items):
            raise ValueError(f"action {action!r} is not an item id in [0, {self.action_space.n})")
        items = torch.full((1, 1), int(action), device=self.simulator.device)
        result, dense = self._session_step(items)
        return self._outcome(result, {"click": result.click.item()}, dense)

    def _session_step(
        self, slate: torch.Tensor, choice: ChoiceConfig | None = None
    ) -> tuple[StepResult, torch.Tensor | None]:
        """`sessions.step` of slate [1, k] (ids already checked), compiled when the env was built so; the
        compiled step also makes the dense observation, if the env gives one (else None)."""
        assert self._rng is not None
        if not self._compile:
            return self.sessions.step(slate, self._rng, choice), None
        if self._compiled is None:
            observe = None if self._dense is None else ("dense", self._dense_of)
            self._compiled = compiled_step(self.sessions, self._rng, choice, observe)
        return self._compiled.step(self.sessions, slate, self._rng)

    def _dense_of(self, sessions: Sessions) -> torch.Tensor:
        """The dense observation [B, D] of sessions."""
        assert self._dense is not None
        return self._dense(sessions.observation(), sessions.length, sessions.shown)

    def render(self) -> str | np.ndarray:
        """ "ansi": the session as one line: user, step, whether it ended, and the recent items with their
        rewards. "rgb_array": the session's picture (`envs.render`), blank before the first reset."""
        if self._picture is not None:
            return self._picture.frame(int(self.sessions.length[0]) / self.sessions.horizon)
        if self.render_mode != "ansi":
            raise RuntimeError(
                f"{type(self).__name__} was built without a render mode: build it with render_mode='ansi' "
                f"or 'rgb_array' (the render modes are {self.metadata['render_modes']})"
            )
        if self._rng is None:
            return "no session: call reset()"
        observation = self._dict_observation()
        pairs = zip(observation["recent_items"], observation["recent_responses"], strict=True)
        recent = " ".join(f"{item - 1}:{reward:g}" for item, reward in pairs if item > 0) or "none"
        status = "ended" if self._ended else "running"
        step, horizon = int(self.sessions.length[0]), self.sessions.horizon
        return (
            f"user {observation['user'][0]}, step {step} of {horizon}, {status}; recent item:reward {recent}"
        )

    def _require_session(self) -> None:
        """A user who left stays gone: stepping an ended session is an error, not a resurrection."""
        if self._rng is None:
            raise RuntimeError("call reset() before step()")
        if self._ended:
            raise RuntimeError(
                "the session has ended (the user left or the horizon was reached); call reset()"
            )

    def action_masks(self) -> np.ndarray:
        """[n_items] bool: True where an item may still be recommended in the session (not yet shown);
        the method sb3-contrib's MaskablePPO reads."""
        return np.logical_not(self.sessions.shown.cpu().numpy()[0])

    def _mask_info(self) -> np.ndarray:
        """`info["action_mask"]`: the mask as Gymnasium's `Discrete.sample(mask=...)` takes it (int8)."""
        return self.action_masks().view(np.int8)

    def _outcome(self, result: StepResult, info: dict[str, Any], dense: torch.Tensor | None = None) -> tuple:
        """The Gymnasium step tuple of the session's row 0 (dense: its dense observation, when the
        compiled step made it); marks the session ended when it is."""
        terminated, truncated = result.terminated.item(), result.truncated.item()
        self._ended = terminated or truncated
        if self._picture is not None:
            self._picture.record(int(result.chosen.item()), terminated)
        info["action_mask"] = self._mask_info()
        observation = self._observation() if dense is None else dense[0].cpu().numpy()
        return observation, result.reward.item(), terminated, truncated, info
