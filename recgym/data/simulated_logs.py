"""Interaction logs collected from any simulator: what a deployed logging policy would have recorded.

The default synthetic logs and the logs of a plug-in simulator come from here. Having logs of a
plug-in simulator lets recgym fit its user models on them, which gives the supervised baselines
(greedy by a fitted model, popular) and the agents' initial embeddings for any simulator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from recgym.data.interactions import InteractionLog
from recgym.random import RowStreams
from recgym.sessions import Sessions
from recgym.simulators.protocol import UserSimulator

SECONDS_PER_STEP = 60
SECONDS_PER_DAY = 86_400


def collect_logs(
    simulator: UserSimulator,
    item_weights: torch.Tensor,
    sessions_per_user: int,
    horizon: int,
    seed: int,
    name: str,
    n_users: int | None = None,
) -> InteractionLog:
    """Log `sessions_per_user` sessions of each of the first `n_users` users (all by default).

    The logging policy shows item i with probability proportional to `item_weights[i]` among the
    items not yet shown in the session (so a session ends once the catalog is exhausted, at the
    latest); every shown item is a row (rating 1 if clicked, else 0), so
    the log keeps its impressions. Steps are a minute apart and sessions a day apart.
    """
    n_users = simulator.n_users if n_users is None else min(n_users, simulator.n_users)
    if n_users < 1 or sessions_per_user < 1 or horizon < 1:
        raise ValueError(
            f"collect_logs needs at least one user, session and step, got n_users={n_users}, "
            f"sessions_per_user={sessions_per_user}, horizon={horizon}"
        )
    if tuple(item_weights.shape) != (simulator.n_items,):
        raise ValueError(
            f"item_weights must have shape ({simulator.n_items},), got {tuple(item_weights.shape)}"
        )
    generator = torch.Generator().manual_seed(seed)
    users = torch.arange(n_users)
    sessions = Sessions(simulator, batch_size=n_users, history_len=1, horizon=horizon)
    columns: dict[str, list[np.ndarray]] = {"user": [], "item": [], "rating": [], "timestamp": []}
    rng = RowStreams.from_seed(seed, n_users, simulator.device)
    for day in range(sessions_per_user):
        sessions.reset(users.to(simulator.device), rng)
        active = torch.ones(n_users, dtype=torch.bool)
        start = day * SECONDS_PER_DAY + torch.randint(
            0, SECONDS_PER_DAY // 2, (n_users,), generator=generator
        )
        for step in range(min(horizon, simulator.n_items)):
            weights = item_weights.expand(n_users, -1).masked_fill(sessions.shown.cpu(), 0.0)
            items = torch.multinomial(weights, 1, generator=generator).squeeze(1)
            result = sessions.step(items, rng)
            index = active.nonzero().squeeze(1)
            columns["user"].append(index.numpy())
            columns["item"].append(items[index].numpy())
            columns["rating"].append(result.click.cpu()[index].float().numpy())
            columns["timestamp"].append((start[index] + step * SECONDS_PER_STEP).numpy())
            active &= ~(result.terminated | result.truncated).cpu()
            if not active.any():
                break
    frame = pd.DataFrame({column: np.concatenate(parts) for column, parts in columns.items()})
    return InteractionLog.from_frame(frame, feedback="click", name=name)
