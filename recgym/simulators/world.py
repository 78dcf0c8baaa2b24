"""A synthetic ground-truth world: users whose true behaviour is known.

Items belong to topics and have a latent unit vector near their topic's centre plus a quality that
drives popularity. Users have an interest vector concentrated on one or two topics; the click logit
is `base_logit + affinity_scale * <interest, item> + quality`, minus the shared dynamics' fatigue and
repetition costs. Interest moves towards what a user clicks. Because all of this is known, the world
both generates the default logs and serves as "reality" when measuring a fitted simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from recgym.simulators.dynamics import DynamicsConfig, DynamicsSimulator
from recgym.simulators.protocol import SimState
from recgym.simulators.rewards import check_reward


@dataclass(frozen=True)
class WorldConfig:
    """Size and behaviour of the synthetic world."""

    n_users: int = 500
    """Users in the population."""
    n_items: int = 200
    """Items in the catalog."""
    n_topics: int = 10
    """Topics (genres); each item has one."""
    dim: int = 16
    """Dimension of the latent interest and item vectors."""
    topic_spread: float = 0.5
    """Noise around a topic centre in item and user vectors (smaller: tighter topics)."""
    affinity_scale: float = 4.0
    """Weight of the interest-item cosine on the click logit."""
    base_logit: float = -2.5
    """Click logit of an item orthogonal to the user's interest with average quality."""
    quality_std: float = 0.5
    """Spread of item quality (logit units); what a popularity policy exploits."""
    interest_drift: float = 0.05
    """Step of the interest vector towards each clicked item."""
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    """Fatigue, repetition and leave parameters."""
    seed: int = 0
    """Seed of the world's items and users (not of sessions)."""

    def __post_init__(self) -> None:
        for name in ("n_users", "n_items", "n_topics", "dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"WorldConfig.{name} must be >= 1, got {getattr(self, name)}")


class GroundTruthWorld(DynamicsSimulator):
    """The true user behaviour of the synthetic world, as a batched `UserSimulator`."""

    def __init__(
        self, config: WorldConfig | None = None, device: str | torch.device = "cpu", reward: str = "click"
    ):
        self.config = config = config or WorldConfig()
        self.dynamics = config.dynamics
        self.n_users, self.n_items = config.n_users, config.n_items
        self.device = torch.device(device)
        check_reward(reward)
        self.reward = reward
        g = torch.Generator().manual_seed(config.seed)
        centres = F.normalize(torch.randn(config.n_topics, config.dim, generator=g), dim=-1)
        self.item_topics = torch.randint(config.n_topics, (config.n_items,), generator=g)
        item_noise = (
            config.topic_spread * torch.randn(config.n_items, config.dim, generator=g) / config.dim**0.5
        )
        self.item_vectors = F.normalize(centres[self.item_topics] + item_noise, dim=-1)
        self.item_quality = config.quality_std * torch.randn(config.n_items, generator=g)
        favourite = torch.randint(config.n_topics, (config.n_users, 2), generator=g)
        weight = torch.rand(config.n_users, 1, generator=g)
        user_noise = (
            config.topic_spread * torch.randn(config.n_users, config.dim, generator=g) / config.dim**0.5
        )
        mixed = weight * centres[favourite[:, 0]] + (1 - weight) * centres[favourite[:, 1]]
        self.user_interest = F.normalize(mixed + user_noise, dim=-1)
        for name in ("item_topics", "item_vectors", "item_quality", "user_interest"):
            setattr(self, name, getattr(self, name).to(self.device))

    def extra_state(self, users: torch.Tensor) -> SimState:
        return {"interest": self.user_interest[users.to(self.device)].clone()}

    def affinity_logit(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        cosine = (state["interest"] * self.item_vectors[items]).sum(-1)
        return self.config.base_logit + self.config.affinity_scale * cosine + self.item_quality[items]

    def update_interest(self, state: SimState, items: torch.Tensor, click: torch.Tensor) -> SimState:
        step = self.config.interest_drift * click.float()[:, None]
        moved = (1 - step) * state["interest"] + step * self.item_vectors[items]
        return state | {"interest": F.normalize(moved, dim=-1)}
