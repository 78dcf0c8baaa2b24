"""The synthetic world's features are views of its truth: item words and genres tell the topic, the
critic score follows quality, a user's favourite genre is the nearest topic as often as configured;
they cover users and items the logs never saw, and leave the world's logs as they were."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recgym.data.synthetic import LoggingConfig, generate_logs
from recgym.data.synthetic_features import SyntheticFeatures, nearest_topics
from recgym.models.fitted import log_fingerprint
from recgym.simulators.world import GroundTruthConfig

WORLD = GroundTruthConfig(n_users=60, n_items=80, n_topics=4, dim=8)


def logs(features: SyntheticFeatures | None = None, sessions: int = 2):
    features = features or SyntheticFeatures()
    return generate_logs(LoggingConfig(world=WORLD, sessions_per_user=sessions, horizon=5, features=features))


def decoded(column) -> list[str]:
    return [column.vocabulary[code - 1] for code in column.values]


def test_every_user_and_item_has_features_logged_or_not() -> None:
    log, _ = logs(sessions=1)
    assert log.n_items < WORLD.n_items  # some items were never shown
    assert log.item_features.ids.tolist() == list(range(WORLD.n_items))
    assert log.user_features.ids.tolist() == list(range(WORLD.n_users))
    assert log.item_feature_rows().present.all() and log.user_feature_rows().present.all()


def test_item_words_and_genre_tell_the_topic_and_the_critic_follows_quality() -> None:
    log, world = logs()
    items, topics = log.item_features, world.affinity.item_topics.numpy()
    assert decoded(items.columns["genre"]) == [f"topic {t}" for t in topics]
    words = items.columns["words"]
    told = 0
    for item, (codes, length) in enumerate(zip(words.values, words.lengths, strict=True)):
        own = [words.vocabulary[c - 1] for c in codes[:length] if words.vocabulary[c - 1].startswith("t")]
        assert all(word.startswith(f"t{topics[item]}w") for word in own)
        told += bool(own)
    assert told / WORLD.n_items > 0.95
    quality = world.affinity.item_quality.numpy()
    assert np.corrcoef(items.columns["critic_score"].values, quality)[0, 1] > 0.5


@pytest.mark.parametrize(("accuracy", "low", "high"), [(1.0, 1.0, 1.0), (0.8, 0.65, 0.95), (0.0, 0.0, 0.5)])
def test_a_users_favourite_genre_is_the_nearest_topic_as_often_as_configured(accuracy, low, high) -> None:
    log, world = logs(SyntheticFeatures(user_genre_accuracy=accuracy))
    stated = decoded(log.user_features.columns["favourite_genre"])
    nearest = [f"topic {t}" for t in nearest_topics(world.affinity)]
    assert low <= np.mean(np.array(stated) == np.array(nearest)) <= high


def test_features_are_seeded_and_leave_the_logs_as_they_were() -> None:
    first, second, other = logs()[0], logs()[0], logs(SyntheticFeatures(seed=1))[0]
    assert log_fingerprint(first) == log_fingerprint(second) != log_fingerprint(other)
    pd.testing.assert_frame_equal(first.frame, other.frame)


@pytest.mark.parametrize(
    ("field", "value"), [("words_per_item", 0), ("on_topic_share", 1.5), ("critic_noise", -1.0)]
)
def test_bad_settings_are_refused_by_name(field, value) -> None:
    with pytest.raises(ValueError, match=f"SyntheticFeatures.{field}"):
        SyntheticFeatures(**{field: value})
