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
from recgym.session_shape import HISTORY_LEN, HORIZON
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
    chosen: torch.Tensor  # [B] long: slate position chosen, the slate size where nothing was
    item: torch.Tensor  # [B] long: the item the session moved on with


SHOWN = "shown"
"""A simulator state entry [B, n_items] bool marking the items shown so far in the session. A simulator
that keeps it (every `DynamicsSimulator` does, for its repeat penalty) lends it to `Sessions`, which then
keeps no copy of its own."""


class Sessions:
    """State of B sessions: the simulator's state plus the observable history.

    :param simulator: any object following the `UserSimulator` protocol.
    :param batch_size: number of concurrent sessions B.
    :param history_len: recent steps kept in the observation.
    :param horizon: steps after which a session is truncated.
    """

    def __init__(
        self,
        simulator: UserSimulator,
        batch_size: int,
        history_len: int = HISTORY_LEN,
        horizon: int = HORIZON,
    ):
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
        self.state: SimState = {}
        self._shown: torch.Tensor | None = None  # only for simulators whose state has no SHOWN entry

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
        lent = SHOWN in self.state and self.state[SHOWN].shape == (self.batch_size, self.simulator.n_items)
        self._shown = None if lent else self._new_mask()

    def _new_mask(self) -> torch.Tensor:
        size = (self.batch_size, self.simulator.n_items)
        return torch.zeros(size, dtype=torch.bool, device=self.simulator.device)

    @property
    def shown(self) -> torch.Tensor:
        """[B, n_items] bool: the items shown so far in each session (the simulator's, when it keeps it)."""
        return self.state[SHOWN] if self._shown is None else self._shown

    def action_mask(self) -> torch.Tensor:
        """[B, n_items] bool, Gymnasium's convention: True where an item may still be recommended."""
        return ~self.shown

    def reset_rows(self, done: torch.Tensor, users: torch.Tensor, rng: RowStreams) -> None:
        """Start fresh sessions, for users [B], in the rows where done [B] is true; keep the others.

        Works on the whole batch with `torch.where`, so it needs no host round-trip on a GPU; the
        fresh states come from `rng.session_streams()`, so building them for every row moves no
        row's own stream.
        """
        users = users.to(self.simulator.device)
        if done.device.type == "cpu":
            rows = done.nonzero().squeeze(1)
            self._restart_listed_rows(rows, users, rng.session_streams())
            self.shown[rows] = False  # in place, whoever keeps the mask
        else:
            fresh = self.simulator.initial_state(users, rng.session_streams())
            self.state = {key: where_rows(done, fresh[key], value) for key, value in self.state.items()}
            if self._shown is not None:
                self._shown.masked_fill_(done[:, None], False)
        rng.start_sessions(done)
        self.users = torch.where(done, users, self.users)
        self.history_items.masked_fill_(done[:, None], PAD)
        self.history_responses.masked_fill_(done[:, None], 0.0)
        self.length.masked_fill_(done, 0)

    def _restart_listed_rows(self, rows: torch.Tensor, users: torch.Tensor, streams: RowStreams) -> None:
        """`reset_rows` where reading which rows finished costs nothing (the CPU): fresh states for those
        rows alone (a user's state never depends on its batch: `check_simulator`), entry by entry, so
        a step's cost does not grow with the catalog through the shown mask, which the caller clears
        in place (the simulator hands over a new one with every state)."""
        if rows.numel() == 0:
            return
        fresh = self.simulator.initial_state(users[rows], RowStreams(streams.keys[rows]))
        lent = SHOWN if self._shown is None else None
        self.state = {
            key: value if key == lent else value.index_put((rows,), fresh[key])
            for key, value in self.state.items()
        }

    def step(
        self, slate: torch.Tensor, rng: RowStreams, choice: ChoiceConfig | None = None, check: bool = True
    ) -> StepResult:
        """Show each user a slate [B, k] (long; a single recommendation is k = 1, and may be given as
        items [B]) and advance.

        Without `choice` (k = 1) the simulator's `respond` answers; with it, its `respond_slate`: the user
        picks at most one item, and the session moves on with the chosen item, or with the first
        position's item when nothing was chosen (the user looked at it and did not take it). That item
        alone counts as shown, as in the simulator's state: the others were offered, not seen. A
        simulator with only `respond` serves slates of one under any choice model whose outside option
        keeps `respond`'s click probability (`no_click_weight` 1).

        `check` validates the slate and the simulator's rewards; each check costs a host round-trip on
        a GPU, so batched envs that validate actions at their boundary pass False. A refused reward
        raises `FloatingPointError` with the step undone: state and random streams as they were.
        """
        simulator, k = self.simulator, 1 if choice is None else choice.slate_size
        single = choice is None and isinstance(slate, torch.Tensor) and slate.dim() == 1
        if check:
            check_items(slate, (self.batch_size,) if single else (self.batch_size, k), simulator.n_items)
        slate = (slate[:, None] if single else slate).long().to(simulator.device)
        streams = rng.state_dict()
        if choice is not None and isinstance(simulator, SlateSimulator):
            answer = simulator.respond_slate(self.state, slate, choice, rng)
            item, chosen, response = answer.item, answer.chosen, answer.response
        elif k == 1 and (choice is None or choice.no_click_weight == 1.0):
            item = slate[:, 0]
            response = simulator.respond(self.state, item, rng)
            chosen = torch.where(response.click, 0, 1)
        else:
            raise TypeError(
                f"{type(simulator).__name__} has no respond_slate: it answers single items, not slates of "
                f"{k} (see docs/custom_simulator.md)"
            )
        if check:
            _check_rewards(response.reward, rng, streams)
        return self._advance(item, chosen, response, rng)

    def _advance(
        self, items: torch.Tensor, chosen: torch.Tensor, response: Response, rng: RowStreams
    ) -> StepResult:
        """Transition on items [B] answered with response, mark them shown and decide who leaves."""
        reward = response.reward.float()
        self.state = self.simulator.transition(self.state, items, response, rng)
        left = self.simulator.leaves(self.state, rng)
        self.history_items = torch.cat([self.history_items[:, 1:], items[:, None] + 1], dim=1)
        self.history_responses = torch.cat([self.history_responses[:, 1:], reward[:, None]], dim=1)
        if self._shown is not None:
            self._shown.scatter_(1, items[:, None], True)
        self.length += 1
        truncated = (self.length >= self.horizon) & ~left
        return StepResult(reward, response.click, left, truncated, chosen, items)

    def observation(self) -> dict[str, torch.Tensor]:
        """What an agent sees: user id [B, 1], recent items [B, H] (item + 1, 0 = empty), responses [B, H]."""
        return {
            "user": self.users[:, None],
            "recent_items": self.history_items,
            "recent_responses": self.history_responses,
        }

    _TENSORS = ("users", "history_items", "history_responses", "length")

    def state_dict(self) -> dict[str, torch.Tensor | SimState]:
        """Every tensor of the B sessions, the simulator's state under "state" (for checkpoints)."""
        own = {} if self._shown is None else {"shown": self._shown}
        return {name: getattr(self, name) for name in self._TENSORS} | own | {"state": dict(self.state)}

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
        shown = state.get("shown")
        self._shown = None if shown is None else shown.to(device, copy=True)  # type: ignore[union-attr]


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
    """`check_rewards`, rewinding rng to `streams` (its `state_dict()` before the simulator answered)
    when it raises, so the refused step leaves no trace."""
    try:
        check_rewards(reward)
    except FloatingPointError:
        rng.load_state_dict(streams)
        raise


def check_rewards(reward: torch.Tensor) -> None:
    """FloatingPointError naming the first non-finite reward [B], for a step not to be taken."""
    finite = torch.isfinite(reward)
    if not bool(finite.all()):
        row = int((~finite).nonzero()[0, 0])
        raise FloatingPointError(
            f"the simulator returned a non-finite reward ({reward[row].item()}) for row {row}; "
            "the step was not taken"
        )
