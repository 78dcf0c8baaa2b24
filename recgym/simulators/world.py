"""A synthetic ground-truth world: users whose true behaviour is known.

Items belong to topics and have a latent unit vector near their topic's centre plus a quality that
drives popularity. Users have an interest vector concentrated on one or two topics; the click logit
is `base_logit + affinity_scale * <interest, item> + quality`, minus the shared dynamics' fatigue and
repetition costs. Interest moves towards what a user clicks. Because all of this is known, the world
both generates the default logs and serves as "reality" when measuring a fitted simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

import torch
import torch.nn.functional as F

from recgym.simulators.dynamics import DynamicsSimulator
from recgym.simulators.dynamics_params import DynamicsConfig, DynamicsParams
from recgym.simulators.protocol import SimState


@dataclass(frozen=True)
class GroundTruthConfig:
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
                raise ValueError(f"GroundTruthConfig.{name} must be >= 1, got {getattr(self, name)}")


@dataclass(frozen=True, eq=False)
class TrueInterest:
    """The world's affinity: interest vectors, item vectors and qualities drawn from the config's seed."""

    config: GroundTruthConfig
    device: torch.device
    item_topics: torch.Tensor  # [n_items] long
    item_vectors: torch.Tensor  # [n_items, dim] unit rows
    item_quality: torch.Tensor  # [n_items]
    user_interest: torch.Tensor  # [n_users, dim] unit rows: each user's interest at a session's start
    rating_scale: tuple[float, float] = (1.0, 1.0)

    @classmethod
    def draw(cls, config: GroundTruthConfig, device: torch.device) -> TrueInterest:
        """Topics, items and users drawn on the CPU from `config.seed` (the same on every device)."""
        g = torch.Generator().manual_seed(config.seed)
        centres = F.normalize(torch.randn(config.n_topics, config.dim, generator=g), dim=-1)
        item_topics = torch.randint(config.n_topics, (config.n_items,), generator=g)
        item_noise = (
            config.topic_spread * torch.randn(config.n_items, config.dim, generator=g) / config.dim**0.5
        )
        item_vectors = F.normalize(centres[item_topics] + item_noise, dim=-1)
        item_quality = config.quality_std * torch.randn(config.n_items, generator=g)
        favourite = torch.randint(config.n_topics, (config.n_users, 2), generator=g)
        weight = torch.rand(config.n_users, 1, generator=g)
        user_noise = (
            config.topic_spread * torch.randn(config.n_users, config.dim, generator=g) / config.dim**0.5
        )
        mixed = weight * centres[favourite[:, 0]] + (1 - weight) * centres[favourite[:, 1]]
        user_interest = F.normalize(mixed + user_noise, dim=-1)
        return cls(
            config,
            device,
            item_topics.to(device),
            item_vectors.to(device),
            item_quality.to(device),
            user_interest.to(device),
        )

    @property
    def n_users(self) -> int:
        return self.config.n_users

    @property
    def n_items(self) -> int:
        return self.config.n_items

    def initial(self, users: torch.Tensor) -> SimState:
        return {"interest": self.user_interest[users.to(self.device)].clone()}

    def logit(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        cosine = (state["interest"] * self.item_vectors[items]).sum(-1)
        return self.config.base_logit + self.config.affinity_scale * cosine + self.item_quality[items]

    def rating(self, state: SimState, items: torch.Tensor) -> torch.Tensor:
        return torch.ones(items.shape, device=self.device)

    def consume(self, state: SimState, items: torch.Tensor, click: torch.Tensor) -> SimState:
        """Interest moves towards each clicked item."""
        step = self.config.interest_drift * click.float()[:, None]
        moved = (1 - step) * state["interest"] + step * self.item_vectors[items]
        return state | {"interest": F.normalize(moved, dim=-1)}


class KnownFromLogs(Protocol):
    """What a recommender that has a world's logs knows of it, which the world's own truth is not
    (`recgym.data.synthetic.DefaultLogs`: its default logs, as `make_simulator("world")` gives it).
    The logs are drawn from the world, so the world is handed this rather than importing them."""

    def user_vectors(self, config: GroundTruthConfig) -> torch.Tensor:
        """[n_users, d'] on the CPU: each user as the logs show them."""
        ...

    def item_popularity(self, config: GroundTruthConfig) -> torch.Tensor:
        """[n_items] on the CPU: each item's clicks in the logs."""
        ...


class GroundTruthWorld(DynamicsSimulator):
    """The true user behaviour of the synthetic world, as a batched `UserSimulator`."""

    affinity: TrueInterest

    logs: KnownFromLogs | None
    """What its logs tell (the dense observation's user part, candidate actions' order); None: nothing."""

    def __init__(
        self,
        config: GroundTruthConfig | None = None,
        device: str | torch.device = "cpu",
        reward: str = "click",
        logs: KnownFromLogs | None = None,
    ):
        config = config or GroundTruthConfig()
        super().__init__(
            TrueInterest.draw(config, torch.device(device)), DynamicsParams(config.dynamics), reward
        )
        object.__setattr__(self, "logs", logs)  # with_dynamics keeps it; read with the new dynamics

    @property
    def config(self) -> GroundTruthConfig:
        """The world's config, with the dynamics this simulator runs (`with_dynamics` may change them)."""
        return replace(self.affinity.config, dynamics=self.dynamics)

    @property
    def item_topics(self) -> torch.Tensor:
        """[n_items] long: each item's topic."""
        return self.affinity.item_topics

    @property
    def item_quality(self) -> torch.Tensor:
        """[n_items]: the quality term of each item's click logit."""
        return self.affinity.item_quality

    @property
    def user_interest(self) -> torch.Tensor:
        """[n_users, dim] unit rows: each user's interest at a session's start."""
        return self.affinity.user_interest

    @property
    def user_vectors(self) -> torch.Tensor | None:
        """[n_users, d'] or None without `logs`: what a recommender knows of each user (with the default
        logs, their click profile there, not their hidden interest); the dense observation's user part.
        The default logs are drawn on first use in each process: a few seconds for the default world."""
        return None if self.logs is None else self.logs.user_vectors(self.config).to(self.device)

    @property
    def item_popularity(self) -> torch.Tensor | None:
        """[n_items] or None without `logs`: each item's clicks in the logs, what a recommender that has
        them knows of the catalog (popular ranks by it; the candidate actions' default order)."""
        return None if self.logs is None else self.logs.item_popularity(self.config).to(self.device)
