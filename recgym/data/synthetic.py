"""The default logs: the ground-truth world observed under a popularity-biased logging policy.

Real recommender logs are biased by the system that produced them; so are these. The logging
policy samples items with probability proportional to `exp(quality / temperature)` (popular items
are shown more), mixed with a share of uniform exploration so that every item gets some exposure.
Each user has several sessions; within a session steps are a minute apart, sessions a day apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import torch

from recgym.baselines import log_popularity
from recgym.data.interactions import InteractionLog
from recgym.data.simulated_logs import collect_logs
from recgym.data.synthetic_features import SyntheticFeatures, world_features
from recgym.data.user_profiles import click_profiles
from recgym.simulators.world import GroundTruthConfig, GroundTruthWorld


@dataclass(frozen=True)
class LoggingConfig:
    """How the synthetic logs are collected."""

    world: GroundTruthConfig = field(default_factory=GroundTruthConfig)
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
    features: SyntheticFeatures = field(default_factory=SyntheticFeatures)
    """What the users and items show of themselves (the logs carry them as feature tables)."""


def logging_policy_probabilities(world: GroundTruthWorld, config: LoggingConfig) -> torch.Tensor:
    """[n_items] probability that the logging policy shows each item."""
    popular = torch.softmax(world.item_quality / config.popularity_temperature, dim=0)
    uniform = torch.full_like(popular, 1.0 / world.n_items)
    return (1 - config.exploration) * popular + config.exploration * uniform


def generate_logs(config: LoggingConfig | None = None) -> tuple[InteractionLog, GroundTruthWorld]:
    """Run the logging policy in the world; return the click log (impressions included, with the
    users' and items' features) and the world."""
    config = config or LoggingConfig()
    world = GroundTruthWorld(config.world)
    probabilities = logging_policy_probabilities(world, config)
    log = collect_logs(
        world, probabilities, config.sessions_per_user, config.horizon, config.seed, "synthetic"
    )
    return log.with_features(*world_features(world.affinity, config.features)), world


def logged_user_profiles(config: GroundTruthConfig) -> torch.Tensor:
    """[n_users, dim] on the CPU: each user's click profile (`recgym.data.user_profiles`) in the default
    logs of the world of config, the logs that popular ranks by and the fitted simulators learn from.
    Made once per config and process (a few seconds for the default world)."""
    return _logged_user_profiles(config).clone()


def logged_item_clicks(config: GroundTruthConfig) -> torch.Tensor:
    """[n_items] on the CPU: each item's clicks in the same default logs, what popular ranks by; an
    item the logs never showed has zero. The logs are drawn once per config and process."""
    log, _ = _default_logs(config)
    clicks = torch.zeros(config.n_items)
    clicks[torch.as_tensor(log.item_ids)] = torch.as_tensor(log_popularity(log), dtype=torch.float32)
    return clicks


class DefaultLogs:
    """The world's default logs as a recommender that has them knows the world (`GroundTruthWorld`'s
    `logs=`, a `KnownFromLogs`): the users' click profiles and the items' clicks."""

    def user_vectors(self, config: GroundTruthConfig) -> torch.Tensor:
        return logged_user_profiles(config)

    def item_popularity(self, config: GroundTruthConfig) -> torch.Tensor:
        return logged_item_clicks(config)


@lru_cache(maxsize=8)
def _default_logs(config: GroundTruthConfig) -> tuple[InteractionLog, GroundTruthWorld]:
    return generate_logs(LoggingConfig(world=config))


@lru_cache(maxsize=8)
def _logged_user_profiles(config: GroundTruthConfig) -> torch.Tensor:
    log, observed = _default_logs(config)
    logged = click_profiles(log, observed.item_vectors[torch.as_tensor(log.item_ids)])
    profiles = torch.zeros(config.n_users, logged.shape[1])  # a user the logs never saw: zeros
    profiles[torch.as_tensor(log.user_ids)] = logged
    return profiles
