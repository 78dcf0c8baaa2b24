"""`check_simulator`: verify that an object keeps the `UserSimulator` contract before anything runs on it.

A plug-in simulator that returns a reward of the wrong shape, moves a state tensor to another device
or draws from the global random generator fails much later, deep inside an agent, or worse, runs and
gives results that cannot be reproduced. The check drives a few short sessions of random items
through the simulator and names the first broken promise: attributes, shapes, dtypes and devices,
finite rewards, states that keep their layout, inputs left unmodified, seeded determinism,
independence of the rows of a batch, and departures that replay exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from recgym.random import RowStreams
from recgym.simulators.choice import ChoiceConfig, SlateSimulator
from recgym.simulators.protocol import Response, SimState, UserSimulator


class SimulatorCheckError(ValueError):
    """A simulator that breaks the `UserSimulator` contract; the message names what is wrong."""


@dataclass(frozen=True)
class _Trace:
    """What one rollout produced, step by step, to compare rollouts with."""

    rewards: list[torch.Tensor]
    clicks: list[torch.Tensor]
    leaves: list[torch.Tensor]
    states: list[SimState]


def check_simulator(simulator: object, batch_size: int = 4, steps: int = 8, seed: int = 0) -> None:
    """Raise `SimulatorCheckError` naming the first way simulator breaks the `UserSimulator` contract.

    Runs `batch_size` sessions of `steps` random items (unshown where possible) three times: twice in
    one batch with the same seed (determinism) and once one user at a time (a user's session must not
    depend on the batch it runs in). Slate simulators (with `respond_slate`) also answer one slate.
    """
    name = type(simulator).__name__
    _check_attributes(simulator, name)
    assert isinstance(simulator, UserSimulator)
    batch_size = min(batch_size, simulator.n_users)
    users = torch.arange(batch_size, device=simulator.device) % simulator.n_users
    items = torch.randint(
        simulator.n_items, (steps, batch_size), generator=torch.Generator().manual_seed(seed)
    ).to(simulator.device)
    first = _rollout(simulator, name, users, items, seed)
    second = _rollout(simulator, name, users, items, seed)
    _same(first, second, f"{name} is not deterministic: two runs with the same seed differ", name)
    alone = [
        _rollout(simulator, name, users[r : r + 1], items[:, r : r + 1], seed, row=r)
        for r in range(batch_size)
    ]
    for row, trace in enumerate(alone):
        _same(
            _rows(first, row),
            trace,
            f"{name}: user row {row} behaves differently alone than in a batch of {batch_size}; draw random "
            "numbers only from the RowStreams you are given (rng.uniform()), never from torch's global "
            "generator, and do not mix rows",
            name,
        )
    if isinstance(simulator, SlateSimulator):
        _check_slate(simulator, name, users, seed)


def _check_attributes(simulator: object, name: str) -> None:
    for attribute in ("n_users", "n_items"):
        value = getattr(simulator, attribute, None)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SimulatorCheckError(f"{name}.{attribute} must be a positive int, got {value!r}")
    if not isinstance(getattr(simulator, "device", None), torch.device):
        raise SimulatorCheckError(
            f"{name}.device must be a torch.device, got {getattr(simulator, 'device', None)!r}"
        )
    for method in ("initial_state", "respond", "transition", "leaves"):
        if not callable(getattr(simulator, method, None)):
            raise SimulatorCheckError(f"{name} has no method {method}() of the UserSimulator protocol")


def _rollout(
    simulator: UserSimulator, name: str, users: torch.Tensor, items: torch.Tensor, seed: int, row: int = 0
) -> _Trace:
    """Sessions of `users` shown `items` [steps, B]; rows keyed as rows row..row+B-1 of one batch."""
    keys = RowStreams.from_seed(seed, row + len(users), simulator.device).keys[row:]
    rng = RowStreams(keys.clone())
    batch = len(users)
    state = _checked_state(simulator.initial_state(users, rng), name, "initial_state", batch, simulator)
    layout = {key: (value.dtype, tuple(value.shape)) for key, value in state.items()}
    trace = _Trace([], [], [], [])
    for step_items in items:
        before = _clone(state)
        response = simulator.respond(state, step_items, rng)
        _unchanged(before, state, name, "respond")
        _check_response(response, name, "respond", batch)
        new_state = simulator.transition(state, step_items, response, rng)
        _unchanged(before, state, name, "transition")
        state = _checked_state(new_state, name, "transition", batch, simulator)
        current = {key: (value.dtype, tuple(value.shape)) for key, value in state.items()}
        if current != layout:
            raise SimulatorCheckError(
                f"{name}.transition changed the state's layout: initial_state gave {layout}, "
                f"transition gave {current}; keep the same keys, dtypes and shapes"
            )
        kept = _clone(state)
        left = simulator.leaves(state, rng)
        _unchanged(kept, state, name, "leaves")
        _check_vector(left, name, "leaves()", batch, (torch.bool,))
        trace.rewards.append(response.reward.cpu())
        trace.clicks.append(response.click.cpu())
        trace.leaves.append(left.cpu())
        trace.states.append({key: value.cpu() for key, value in state.items()})
    return trace


def _checked_state(state: object, name: str, method: str, batch: int, simulator: UserSimulator) -> SimState:
    if not isinstance(state, dict) or not all(isinstance(key, str) for key in state):
        raise SimulatorCheckError(f"{name}.{method} must return a dict of str -> tensor, got {type(state)}")
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise SimulatorCheckError(
                f"{name}.{method}: state[{key!r}] is a {type(value).__name__}, not a tensor"
            )
        if value.dim() == 0 or value.shape[0] != batch:
            raise SimulatorCheckError(
                f"{name}.{method}: state[{key!r}] has shape {tuple(value.shape)}; every state tensor needs "
                f"a leading dimension of {batch}, one row per user"
            )
        if value.device.type != simulator.device.type:
            raise SimulatorCheckError(
                f"{name}.{method}: state[{key!r}] is on {value.device}, the simulator on {simulator.device}"
            )
    return state


def _check_response(response: object, name: str, method: str, batch: int) -> None:
    if not isinstance(response, Response):
        raise SimulatorCheckError(
            f"{name}.{method} must return recgym.simulators.protocol.Response, got {type(response).__name__}"
        )
    _check_vector(response.click, name, f"{method}().click", batch, (torch.bool,))
    _check_vector(response.reward, name, f"{method}().reward", batch, (torch.float32, torch.float64))
    if not bool(torch.isfinite(response.reward).all()):
        raise SimulatorCheckError(f"{name}.{method}().reward holds NaN or infinite values: {response.reward}")


def _check_vector(value: object, name: str, what: str, batch: int, dtypes: tuple[torch.dtype, ...]) -> None:
    if not isinstance(value, torch.Tensor):
        raise SimulatorCheckError(f"{name}.{what} must be a tensor, got {type(value).__name__}")
    if tuple(value.shape) != (batch,):
        raise SimulatorCheckError(f"{name}.{what} has shape {tuple(value.shape)}, expected ({batch},)")
    if value.dtype not in dtypes:
        expected = " or ".join(str(dtype) for dtype in dtypes)
        raise SimulatorCheckError(f"{name}.{what} has dtype {value.dtype}, expected {expected}")


def _clone(state: SimState) -> SimState:
    return {key: value.clone() for key, value in state.items()}


def _unchanged(before: SimState, after: SimState, name: str, method: str) -> None:
    for key, value in before.items():
        if not torch.equal(value, after[key]):
            raise SimulatorCheckError(
                f"{name}.{method} modified state[{key!r}] in place; return a new state instead (envs keep "
                "earlier states, e.g. to restart finished rows)"
            )


def _rows(trace: _Trace, row: int) -> _Trace:
    pick: Callable[[torch.Tensor], torch.Tensor] = lambda tensor: tensor[row : row + 1]  # noqa: E731
    return _Trace(
        [pick(t) for t in trace.rewards],
        [pick(t) for t in trace.clicks],
        [pick(t) for t in trace.leaves],
        [{key: pick(value) for key, value in state.items()} for state in trace.states],
    )


def _same(a: _Trace, b: _Trace, message: str, name: str) -> None:
    for field, left, right in (
        ("reward", a.rewards, b.rewards),
        ("click", a.clicks, b.clicks),
        ("leaves", a.leaves, b.leaves),
    ):
        for step, (x, y) in enumerate(zip(left, right, strict=True)):
            if not (torch.equal(x, y) or (x.is_floating_point() and torch.allclose(x, y, atol=1e-5))):
                raise SimulatorCheckError(f"{message} ({field} at step {step}: {x.tolist()} vs {y.tolist()})")
    for step, (before, after) in enumerate(zip(a.states, b.states, strict=True)):
        for key in before:
            if not torch.allclose(before[key].double(), after[key].double(), atol=1e-5, equal_nan=True):
                raise SimulatorCheckError(f"{message} (state[{key!r}] at step {step})")


def _check_slate(simulator: SlateSimulator, name: str, users: torch.Tensor, seed: int) -> None:
    choice = ChoiceConfig(slate_size=min(3, simulator.n_items))
    rng = RowStreams.from_seed(seed, len(users), simulator.device)
    state = simulator.initial_state(users, rng)
    slate = torch.stack([torch.arange(choice.slate_size)] * len(users)).to(simulator.device)
    answer = simulator.respond_slate(state, slate, choice, rng)
    _check_response(answer.response, name, "respond_slate", len(users))
    _check_vector(answer.chosen, name, "respond_slate().chosen", len(users), (torch.int64,))
    _check_vector(answer.item, name, "respond_slate().item", len(users), (torch.int64,))
    if bool(((answer.chosen < 0) | (answer.chosen > choice.slate_size)).any()):
        raise SimulatorCheckError(
            f"{name}.respond_slate().chosen must be a position in [0, {choice.slate_size}] "
            f"({choice.slate_size} = nothing chosen), got {answer.chosen.tolist()}"
        )
