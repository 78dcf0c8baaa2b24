"""What the synthetic world's users and items show of themselves: features drawn from the latents that
drive its clicks, so what a feature-aware simulator gains is measured against a known answer.

An item shows its topic as a `genre` token, a bag of content `words` (each drawn from its topic's own
vocabulary with probability `on_topic_share`, else from words every topic uses) and a noisy
`critic_score` of its quality. A user shows a `favourite_genre`: the topic nearest their interest, or
with probability 1 - `user_genre_accuracy` another topic at random, as stated preferences often are.
Features come from a generator of their own, so the world and its logs are the same with or without.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from recgym.data.features import FeatureKind, FeatureTable
from recgym.simulators.world import TrueInterest


@dataclass(frozen=True)
class SyntheticFeatures:
    """How much the synthetic users and items tell about themselves."""

    words_per_item: int = 8
    """Content words in each item's bag."""
    topic_words: int = 12
    """Words in each topic's own vocabulary."""
    common_words: int = 40
    """Words that items of every topic use."""
    on_topic_share: float = 0.6
    """Chance that a content word comes from the item's topic vocabulary."""
    critic_noise: float = 0.5
    """Standard deviation of the critic score around the item's true quality (logit units)."""
    user_genre_accuracy: float = 0.8
    """Chance that a user's favourite genre is the topic nearest their interest."""
    seed: int = 0
    """Seed of the features (the world's own seed draws the world)."""

    def __post_init__(self) -> None:
        for name in ("words_per_item", "topic_words", "common_words"):
            if getattr(self, name) < 1:
                raise ValueError(f"SyntheticFeatures.{name} must be >= 1, got {getattr(self, name)}")
        for name in ("on_topic_share", "user_genre_accuracy"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"SyntheticFeatures.{name} must lie in [0, 1], got {getattr(self, name)}")
        if self.critic_noise < 0:
            raise ValueError(f"SyntheticFeatures.critic_noise must be >= 0, got {self.critic_noise}")


def world_features(truth: TrueInterest, config: SyntheticFeatures) -> tuple[FeatureTable, FeatureTable]:
    """(user features, item features) of every user and item of the world, logged or not, keyed by
    the world's indices (the synthetic logs' raw ids)."""
    rng = np.random.default_rng(config.seed)
    topics = truth.item_topics.cpu().numpy()
    n_topics = truth.config.n_topics
    on_topic = rng.random((truth.n_items, config.words_per_item)) < config.on_topic_share
    own = rng.integers(config.topic_words, size=on_topic.shape)
    common = rng.integers(config.common_words, size=on_topic.shape)
    words = [
        [
            f"t{topics[i]}w{own[i, j]}" if on_topic[i, j] else f"c{common[i, j]}"
            for j in range(on_topic.shape[1])
        ]
        for i in range(truth.n_items)
    ]
    quality = truth.item_quality.cpu().numpy().astype(np.float64)
    items = pd.DataFrame(
        {
            "item_id": np.arange(truth.n_items),
            "genre": [f"topic {topic}" for topic in topics],
            "words": words,
            "critic_score": quality + config.critic_noise * rng.standard_normal(truth.n_items),
        }
    )
    nearest = nearest_topics(truth)
    stated = np.where(
        rng.random(truth.n_users) < config.user_genre_accuracy,
        nearest,
        rng.integers(n_topics, size=truth.n_users),
    )
    users = pd.DataFrame(
        {"user_id": np.arange(truth.n_users), "favourite_genre": [f"topic {t}" for t in stated]}
    )
    item_kinds: dict[str, FeatureKind] = {"genre": "token", "words": "token_seq", "critic_score": "float"}
    return (
        FeatureTable.from_frame(users, "user_id", {"favourite_genre": "token"}, name="synthetic users"),
        FeatureTable.from_frame(items, "item_id", item_kinds, name="synthetic items"),
    )


def nearest_topics(truth: TrueInterest) -> np.ndarray:
    """[n_users] the topic whose mean item vector is nearest each user's interest (a topic without
    items is never nearest)."""
    vectors, topics = truth.item_vectors.cpu(), truth.item_topics.cpu()
    n_topics = truth.config.n_topics
    sums = torch.zeros(n_topics, vectors.shape[1]).index_add_(0, topics, vectors)
    counts = torch.bincount(topics, minlength=n_topics)
    similarity = truth.user_interest.cpu() @ F.normalize(sums, dim=-1).T
    similarity[:, counts == 0] = -torch.inf
    return similarity.argmax(dim=1).numpy()
