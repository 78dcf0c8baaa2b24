"""Click profiles: each user's mean clicked-item vector, the synthetic world's known user vectors."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
import torch
from conftest import TINY_WORLD

from recgym.data.interactions import InteractionLog
from recgym.data.synthetic import DefaultLogs, logged_item_clicks, logged_user_profiles
from recgym.data.user_profiles import click_profiles
from recgym.simulators.dynamics_params import DynamicsParams
from recgym.simulators.registry import make_simulator
from recgym.simulators.world import GroundTruthWorld


def test_a_profile_is_the_unit_mean_of_the_clicked_items_vectors() -> None:
    frame = pd.DataFrame(
        {
            "user": [10, 10, 10, 20],
            "item": [7, 8, 9, 9],
            "rating": [1.0, 1.0, 0.0, 0.0],  # 10 clicked 7 and 8, skipped 9; 20 never clicked
            "timestamp": [0, 60, 120, 0],
        }
    )
    log = InteractionLog.from_frame(frame, feedback="click")
    vectors = {7: [2.0, 0.0], 8: [0.0, 1.0], 9: [-1.0, -1.0]}
    item_vectors = torch.tensor([vectors[raw] for raw in log.item_ids])
    profiles = click_profiles(log, item_vectors)
    a, b = list(log.user_ids).index(10), list(log.user_ids).index(20)
    torch.testing.assert_close(profiles[a], torch.tensor([1.0, 1.0]) / 2**0.5)
    torch.testing.assert_close(profiles[b], torch.zeros(2))
    with pytest.raises(ValueError, match=r"item_vectors must have shape \(3, d\)"):
        click_profiles(log, item_vectors[:2])


def test_the_worlds_user_vectors_are_its_logged_profiles_near_the_hidden_interest() -> None:
    world = GroundTruthWorld(TINY_WORLD, logs=DefaultLogs())
    known = world.user_vectors
    torch.testing.assert_close(known, logged_user_profiles(TINY_WORLD))
    alignment = (known * world.user_interest).sum(-1)
    assert 0.5 < alignment.mean() < 0.99, alignment  # near the hidden interest, but what the logs tell


def test_a_world_knows_its_logs_only_when_handed_them_and_keeps_them_with_other_dynamics() -> None:
    bare = GroundTruthWorld(TINY_WORLD)
    assert bare.user_vectors is None and bare.item_popularity is None
    world = make_simulator("world", config=TINY_WORLD)
    torch.testing.assert_close(world.user_vectors, logged_user_profiles(TINY_WORLD))
    torch.testing.assert_close(world.item_popularity, logged_item_clicks(TINY_WORLD))
    moved = world.with_dynamics(DynamicsParams(replace(TINY_WORLD.dynamics, fatigue_weight=0.0)))
    assert moved.logs is world.logs
    torch.testing.assert_close(moved.item_popularity, logged_item_clicks(moved.config))
