"""Logged sessions replayed through a simulator's dynamics, to read off the states users were in.

To learn how fatigue changes clicks and when users leave, every logged step needs the features the
simulator would have computed at that point. Replaying a session means starting the simulator's state
for its user, showing the logged items in the logged order and forcing the logged clicks (rating at
or above the log's like threshold), and recording the state before and after each step. A model
fitted on these rows then sees in simulation exactly the features it was fitted on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from recgym.data.log_sessions import LogSessions
from recgym.random import RowStreams
from recgym.simulators.dynamics import DynamicsSimulator
from recgym.simulators.dynamics_params import DynamicsConfig, click_logit
from recgym.simulators.leave_model import leave_features
from recgym.simulators.protocol import Response


@dataclass(frozen=True)
class ReplayedSteps:
    """One row per replayed logged step (sessions cut at `max_length` steps)."""

    session: np.ndarray  # [N] session id of the LogSessions
    position: np.ndarray  # [N] 0-based step in the session
    click: np.ndarray  # [N] float 0/1: the logged response
    affinity_logit: np.ndarray  # [N] the simulator's affinity logit of the shown item
    fatigue: np.ndarray  # [N] fatigue felt when it was shown
    repeated: np.ndarray  # [N] 1.0 where it was shown before in the session
    leave_features: np.ndarray  # [N, F] hazard features after the step
    ended: np.ndarray  # [N] bool: the session's last logged step
    censored: np.ndarray  # [N] bool: ended where the logging stopped it, so leaving is unknown


@torch.no_grad()
def replay_sessions(
    simulator: DynamicsSimulator,
    sessions: LogSessions,
    like_threshold: float,
    max_length: int = 200,
    censor_length: int | None = None,
    chunk_size: int = 4096,
) -> ReplayedSteps:
    """Replay every session of `sessions` through `simulator` (see the module docstring).

    :param like_threshold: ratings at or above it count as clicks.
    :param max_length: steps replayed per session; later steps are dropped (and the session does not end).
    :param censor_length: sessions at least this long were cut by the logger (e.g. the synthetic logs'
        horizon), so their last step says nothing about leaving.
    """
    rows = sessions.rows[sessions.rows["position"] < max_length]
    table = sessions.sessions
    lengths = np.minimum(table["length"].to_numpy(), max_length)
    padded_items = np.zeros((len(table), int(lengths.max(initial=1))), dtype=np.int64)
    padded_clicks = np.zeros_like(padded_items, dtype=np.float32)
    session_ids, positions = rows["session"].to_numpy(), rows["position"].to_numpy()
    padded_items[session_ids, positions] = rows["item"].to_numpy()
    padded_clicks[session_ids, positions] = rows["rating"].to_numpy() >= like_threshold
    users = table["user"].to_numpy()
    chunks = np.array_split(np.argsort(lengths, kind="stable"), max(1, -(-len(table) // chunk_size)))
    parts = [
        _replay_chunk(simulator, chunk, users[chunk], lengths[chunk], padded_items, padded_clicks)
        for chunk in chunks
        if len(chunk)
    ]
    steps = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    true_lengths = table["length"].to_numpy()[steps["session"]]
    ended = (steps["position"] == true_lengths - 1) & (true_lengths <= max_length)
    censored = ended & (true_lengths >= censor_length) if censor_length is not None else np.zeros_like(ended)
    return ReplayedSteps(ended=ended, censored=censored, **steps)


def _replay_chunk(
    simulator: DynamicsSimulator,
    chunk: np.ndarray,
    users: np.ndarray,
    lengths: np.ndarray,
    padded_items: np.ndarray,
    padded_clicks: np.ndarray,
) -> dict[str, np.ndarray]:
    device = simulator.device
    rng = RowStreams.from_seed(0, len(chunk), device=device)
    state = simulator.initial_state(torch.as_tensor(users, device=device), rng)
    active_lengths = torch.as_tensor(lengths, device=device)
    records: dict[str, list[torch.Tensor]] = {key: [] for key in _RECORDED}
    for t in range(int(lengths.max())):
        items = torch.as_tensor(padded_items[chunk, t], device=device)
        click = torch.as_tensor(padded_clicks[chunk, t], device=device)
        active = active_lengths > t
        before = {
            "affinity_logit": simulator.affinity_logit(state, items),
            "fatigue": simulator.felt_fatigue(state, items),
            "repeated": simulator.repeated(state, items),
        }
        state = simulator.transition(state, items, Response(click=click.bool(), reward=click), rng)
        step = before | {
            "session": torch.as_tensor(chunk, device=device),
            "position": torch.full_like(items, t),
            "click": click,
            "leave_features": leave_features(state),
        }
        for key in _RECORDED:
            records[key].append(step[key][active].cpu())
    return {key: torch.cat(values).numpy() for key, values in records.items()}


def replayed_click_logit(dynamics: DynamicsConfig, steps: ReplayedSteps) -> np.ndarray:
    """[N] click logit of every replayed step under dynamics: the simulator's own `click_logit`."""
    return click_logit(dynamics, steps.affinity_logit, steps.fatigue, steps.repeated)


_RECORDED = ("session", "position", "click", "affinity_logit", "fatigue", "repeated", "leave_features")
