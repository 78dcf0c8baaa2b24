"""B concurrent recommendation sessions over any `UserSimulator`.

This is the one implementation of a session step: the Gymnasium env is the batch-of-one case, the
evaluation runs every evaluated user at once, and the synthetic log generator uses it too. It keeps
what an agent may observe (the recent items and responses, and the items shown so far), apart from
the simulator's hidden state.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import Any

import torch

from recgym.random import RowStreams
from recgym.rows import where_rows
from recgym.simulators.choice import ChoiceConfig, SlateSimulator
from recgym.simulators.protocol import Response, SimState, UserSimulator

PAD = 0
"""History slots hold item + 1; 0 marks an empty slot."""


@dataclass(frozen=True)
class StepResult:
    """Outcome of one step for B users."""

    reward: torch.Tensor  # [B] float32
    click: torch.Tensor  # [B] bool
    terminated: torch.Tensor  # [B] bool: the user left
    truncated: torch.Tensor  # [B] bool: the horizon was reached without leaving


@dataclass(frozen=True)
class SlateStepResult(StepResult):
    """One slate step's outcome, with the position each user chose and the item the session moved on with."""

    chosen: torch.Tensor  # [B] long: position chosen, slate_size where nothing was
    item: torch.Tensor  # [B] long


class Sessions:
    """State of B sessions: the simulator's state plus the observable history.

    :param simulator: any object following the `UserSimulator` protocol.
    :param batch_size: number of concurrent sessions B.
    :param history_len: recent steps kept in the observation.
    :param horizon: steps after which a session is truncated.
    """

    def __init__(self, simulator: UserSimulator, batch_size: int, history_len: int = 10, horizon: int = 50):
        for name, value in (("batch_size", batch_size), ("history_len", history_len), ("horizon", horizon)):
            if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("n_users", "n_items"):  # empty populations and catalogs fail here, not deep in torch
            value = getattr(simulator, name)
            if not isinstance(value, Integral) or value < 1:
                raise ValueError(f"{type(simulator).__name__}.{name} must be an integer >= 1, got {value!r}")
        self.simulator = simulator
        self.batch_size, self.history_len, self.horizon = int(batch_size), int(history_len), int(horizon)
        device = simulator.device
        self.users = torch.zeros(batch_size, dtype=torch.long, device=device)
        self.history_items = torch.full((batch_size, history_len), PAD, dtype=torch.long, device=device)
        self.history_responses = torch.zeros(batch_size, history_len, device=device)
        self.length = torch.zeros(batch_size, dtype=torch.long, device=device)
        self.shown = torch.zeros(batch_size, simulator.n_items, dtype=torch.bool, device=device)
        self.state: SimState = {}

    def reset(self, users: torch.Tensor, rng: RowStreams) -> None:
        """Start fresh sessions for users [B] (each row counts a new session in rng)."""
        if users.shape != (self.batch_size,):
            raise ValueError(f"reset expects users of shape ({self.batch_size},), got {tuple(users.shape)}")
        if users.min() < 0 or users.max() >= self.simulator.n_users:
            raise ValueError(
                f"user ids must be in [0, {self.simulator.n_users}), got {users.tolist()[:8]}..."
            )
        self.users = users.to(self.simulator.device)
        self.state = self.simulator.initial_state(self.users, rng.session_streams())
        rng.start_sessions()
        self.history_items.fill_(PAD)
        self.history_responses.zero_()
        self.length.zero_()
        self.shown.zero_()

    def reset_rows(self, done: torch.Tensor, users: torch.Tensor, rng: RowStreams) -> None:
        """Start fresh sessions, for users [B], in the rows where done [B] is true; keep the others.

        Works on the whole batch with `torch.where`, so it needs no host round-trip on a GPU; the
        fresh states come from `rng.session_streams()`, so building them for every row moves no
        row's own stream.
        """
        fresh = self.simulator.initial_state(users.to(self.simulator.device), rng.session_streams())
        rng.start_sessions(done)
        self.state = {key: where_rows(done, fresh[key], value) for key, value in self.state.items()}
        self.users = torch.where(done, users, self.users)
        self.history_items.masked_fill_(done[:, None], PAD)
        self.history_responses.masked_fill_(done[:, None], 0.0)
        self.length.masked_fill_(done, 0)
        self.shown.masked_fill_(done[:, None], False)

    def step(self, items: torch.Tensor, rng: RowStreams, check: bool = True) -> StepResult:
        """Show items [B] (long), one per user, and advance every session by one step.

        `check` validates the items and the simulator's rewards; each check costs a host round-trip
        on a GPU, so batched envs that validate actions at their boundary pass False. A refused reward
        raises `FloatingPointError` with the step undone: state and random streams as they were.
        """
        if check:
            check_items(items, (self.batch_size,), self.simulator.n_items)
        items = items.long().to(self.simulator.device)
        streams = rng.state_dict()
        response = self.simulator.respond(self.state, items, rng)
        if check:
            _check_rewards(response.reward, rng, streams)
        return self._advance(items, response, rng)

    def step_slate(
        self, slate: torch.Tensor, choice: ChoiceConfig, rng: RowStreams, check: bool = True
    ) -> SlateStepResult:
        """Show slate [B, k] (long) to each user, who picks at most one item (`choice`), and advance.

        The session moves on with the chosen item, or with the first position's item when nothing
        was chosen (the user looked at it and did not take it). That item alone counts as shown, as in
        the simulator's state: the other items were offered, not seen, and may be offered again.
        """
        simulator = self.simulator
        if not isinstance(simulator, SlateSimulator):
            raise TypeError(f"{type(simulator).__name__} has no respond_slate: it cannot answer slates")
        if check:
            check_items(slate, (self.batch_size, choice.slate_size), simulator.n_items)
        slate = slate.long().to(simulator.device)
        streams = rng.state_dict()
        answer = simulator.respond_slate(self.state, slate, choice, rng)
        if check:
            _check_rewards(answer.response.reward, rng, streams)
        result = self._advance(answer.item, answer.response, rng)
        return SlateStepResult(**vars(result), chosen=answer.chosen, item=answer.item)

    def _advance(self, items: torch.Tensor, response: Response, rng: RowStreams) -> StepResult:
        """Transition on items [B] answered with response, mark them shown and decide who leaves."""
        reward = response.reward.float()
        self.state = self.simulator.transition(self.state, items, response, rng)
        left = self.simulator.leaves(self.state, rng)
        self.history_items = torch.cat([self.history_items[:, 1:], items[:, None] + 1], dim=1)
        self.history_responses = torch.cat([self.history_responses[:, 1:], reward[:, None]], dim=1)
        self.shown.scatter_(1, items[:, None], True)
        self.length += 1
        truncated = (self.length >= self.horizon) & ~left
        return StepResult(reward=reward, click=response.click, terminated=left, truncated=truncated)

    def observation(self) -> dict[str, torch.Tensor]:
        """What an agent sees: user id [B, 1], recent items [B, H] (item + 1, 0 = empty), responses [B, H]."""
        return {
            "user": self.users[:, None],
            "recent_items": self.history_items,
            "recent_responses": self.history_responses,
        }

    _TENSORS = ("users", "history_items", "history_responses", "length", "shown")

    def state_dict(self) -> dict[str, torch.Tensor | SimState]:
        """Every tensor of the B sessions, the simulator's state under "state" (for checkpoints)."""
        return {name: getattr(self, name) for name in self._TENSORS} | {"state": dict(self.state)}

    def load_state_dict(self, state: dict[str, torch.Tensor | SimState]) -> None:
        """Restore a `state_dict()` (copied onto the simulator's device); ValueError naming a tensor whose
        shape does not fit these sessions."""
        for name in self._TENSORS:
            current, value = getattr(self, name), state[name]
            assert isinstance(value, torch.Tensor)
            if value.shape != current.shape:
                raise ValueError(
                    f"sessions {name} has shape {tuple(value.shape)}, these sessions need "
                    f"{tuple(current.shape)}"
                )
            setattr(self, name, value.to(current.device, current.dtype, copy=True))
        simulator_state = state["state"]
        assert isinstance(simulator_state, dict)
        device = self.simulator.device
        self.state = {key: value.to(device, copy=True) for key, value in simulator_state.items()}


def check_items(items: Any, shape: tuple[int, ...], n_items: int, values: bool = True) -> None:
    """TypeError or ValueError naming what is wrong unless items is an int32/int64 tensor of shape.

    `values` also checks the ids are in [0, n_items): a host round-trip on a GPU, unlike the rest.
    """
    if not isinstance(items, torch.Tensor):
        raise TypeError(f"items must be a torch tensor of item ids, got {type(items).__name__}")
    if tuple(items.shape) != shape:
        raise ValueError(f"step expects items of shape {shape}, got {tuple(items.shape)}")
    if items.dtype not in (torch.int32, torch.int64):
        raise TypeError(f"items must be integer ids, got dtype {items.dtype}")
    if values and bool(((items < 0) | (items >= n_items)).any()):
        raise ValueError(f"item ids must be in [0, {n_items}), got {items.flatten().tolist()[:8]}")


def _check_rewards(reward: torch.Tensor, rng: RowStreams, streams: dict[str, torch.Tensor]) -> None:
    """FloatingPointError naming the first non-finite reward, after rewinding rng to `streams` (its
    `state_dict()` before the simulator answered), so the refused step leaves no trace."""
    finite = torch.isfinite(reward)
    if not bool(finite.all()):
        rng.load_state_dict(streams)
        row = int((~finite).nonzero()[0, 0])
        raise FloatingPointError(
            f"the simulator returned a non-finite reward ({reward[row].item()}) for row {row}; "
            "the step was not taken"
        )
