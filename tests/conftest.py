"""Shared fixtures: a tiny synthetic world and a fully deterministic simulator."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))  # so that tests can `import fakes` in any import mode

from fakes import FixedSimulator  # noqa: E402

from recgym.simulators.world import GroundTruthConfig, GroundTruthWorld  # noqa: E402

# Property tests (docs/ROBUSTNESS.md) draw the same examples on every run and keep no example database;
# each test sets its own max_examples.
settings.register_profile("recgym", deadline=None, derandomize=True, database=None, print_blob=True)
settings.load_profile("recgym")

TINY_WORLD = GroundTruthConfig(n_users=20, n_items=15, n_topics=3, dim=4, seed=0)

# user 0 clicks even items and leaves after 3 steps; user 1 clicks item 1 only and never leaves
# within the tests' horizons; user 2 clicks everything and leaves after 1 step.
CLICKS = [
    [1, 0, 1, 0, 1],
    [0, 1, 0, 0, 0],
    [1, 1, 1, 1, 1],
]
LEAVE_AFTER = [3, 1000, 1]


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs that fill the default cache (`experiments.fit_user_model`) fill a test's own, never ~/.cache."""
    monkeypatch.setenv("RECGYM_CACHE", str(tmp_path_factory.mktemp("recgym-cache")))


@pytest.fixture
def tiny_world() -> GroundTruthWorld:
    return GroundTruthWorld(TINY_WORLD)


@pytest.fixture
def fixed_sim() -> FixedSimulator:
    return FixedSimulator(CLICKS, LEAVE_AFTER)
