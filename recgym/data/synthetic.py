"""The default logs: the ground-truth world observed under a popularity-biased logging policy.

Real recommender logs are biased by the system that produced them; so are these. The logging
policy samples items with probability proportional to `exp(quality / temperature)` (popular items
are shown more), mixed with a share of uniform exploration so that every item gets some exposure.
Each user has several sessions; within a session steps are a minute apart, sessions a day apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from recgym.data.interactions import InteractionLog
from recgym.random import RowStreams
from recgym.sessions import Sessions
from recgym.simulators.world import GroundTruthWorld, WorldConfig

SECONDS_PER_STEP = 60
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class LoggingConfig:
    """How the synthetic logs are collected."""

    world: WorldConfig = field(default_factory=WorldConfig)
    """The world that is observed."""
    sessions_per_user: int = 20
    """Sessions logged for every user."""
    horizon: int = 30
    """Longest logged session."""
    popularity_temperature: float = 0.5
    """Temperature of the popularity bias (smaller: more concentrated on popular items)."""
    exploration: float = 0.3
    """Share of recommendations drawn uniformly from the catalog."""
    seed: int = 0
    """Seed of the logged sessions."""


def logging_policy_probabilities(world: GroundTruthWorld, config: LoggingConfig) -> torch.Tensor:
    """[n_items] probability that the logging policy shows each item."""
    popular = torch.softmax(world.item_quality / config.popularity_temperature, dim=0)
    uniform = torch.full_like(popular, 1.0 / world.n_items)
    return (1 - config.exploration) * popular + config.exploration * uniform


def generate_logs(config: LoggingConfig | None = None) -> tuple[InteractionLog, GroundTruthWorld]:
    """Run the logging policy in the world; return the click log (impressions included) and the world."""
    config = config or LoggingConfig()
    world = GroundTruthWorld(config.world)
    generator = torch.Generator().manual_seed(config.seed)
    probabilities = logging_policy_probabilities(world, config)
    users = torch.arange(world.n_users)
    sessions = Sessions(world, batch_size=world.n_users, history_len=1, horizon=config.horizon)
    columns: dict[str, list[np.ndarray]] = {"user": [], "item": [], "rating": [], "timestamp": []}
    rng = RowStreams.from_seed(config.seed, world.n_users)
    for day in range(config.sessions_per_user):
        sessions.reset(users, rng)
        active = torch.ones(world.n_users, dtype=torch.bool)
        start = day * SECONDS_PER_DAY + torch.randint(
            0, SECONDS_PER_DAY // 2, (world.n_users,), generator=generator
        )
        for step in range(config.horizon):
            weights = probabilities.expand(world.n_users, -1).masked_fill(sessions.shown, 0.0)
            items = torch.multinomial(weights, 1, generator=generator).squeeze(1)
            result = sessions.step(items, rng)
            index = active.nonzero().squeeze(1)
            columns["user"].append(index.numpy())
            columns["item"].append(items[index].numpy())
            columns["rating"].append(result.click[index].float().numpy())
            columns["timestamp"].append((start[index] + step * SECONDS_PER_STEP).numpy())
            active &= ~(result.terminated | result.truncated)
            if not active.any():
                break
    frame = pd.DataFrame({name: np.concatenate(parts) for name, parts in columns.items()})
    log = InteractionLog.from_frame(frame, feedback="click", name="synthetic")
    return log, world
