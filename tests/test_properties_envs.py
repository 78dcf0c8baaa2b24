"""Properties of the envs' `step` and `reset` on every face (docs/ROBUSTNESS.md): a malformed action,
seed or user raises an error naming it and leaves the env exactly as it was (a twin env that never
saw it steps the same), and valid actions keep every observation inside the observation space."""

from __future__ import annotations

import numpy as np
import pytest
from env_faces import FACES, bad_actions, same, valid_actions
from hypothesis import given, settings
from hypothesis import strategies as st

from envs import RecEnv, RecVectorEnv
from recgym.simulators.world import GroundTruthWorld, WorldConfig

WORLD = GroundTruthWorld(WorldConfig(n_users=6, n_items=5, n_topics=2, dim=3, seed=0))
SEEDS = st.integers(0, 2**32)


@settings(max_examples=240)
@given(face=st.sampled_from(FACES), seed=SEEDS, data=st.data())
def test_a_bad_action_raises_and_changes_nothing(face, seed, data) -> None:
    env, twin = face.make(WORLD), face.make(WORLD)
    env.reset(seed), twin.reset(seed)
    for action in data.draw(st.lists(valid_actions(face, WORLD.n_items), max_size=4), label="before"):
        assert same(env.step(action), twin.step(action))
    bad = data.draw(bad_actions(face, WORLD.n_items), label="bad")
    with pytest.raises((ValueError, TypeError), match="item|action"):
        env.step(bad)
    action = data.draw(valid_actions(face, WORLD.n_items), label="after")
    assert same(env.step(action), twin.step(action))


@settings(max_examples=80)
@given(face=st.sampled_from(FACES), seed=SEEDS, data=st.data())
def test_valid_actions_keep_observations_in_the_space(face, seed, data) -> None:
    env = face.make(WORLD)
    assert env.contains(env.reset(seed))
    for action in data.draw(st.lists(valid_actions(face, WORLD.n_items), min_size=1, max_size=20)):
        outcome = env.step(action)
        assert all(env.contains(observation) for observation in outcome.observations)
        assert all(env.contains_final(observation) for observation in outcome.finals)
        assert np.isfinite(outcome.reward).all()


BAD_VALUES = st.one_of(
    st.integers(max_value=-1), st.integers(min_value=2**63), st.floats(), st.booleans(), st.text(max_size=3)
)


@settings(max_examples=150)
@given(seed=SEEDS, bad=BAD_VALUES, user=st.booleans(), action=st.integers(0, WORLD.n_items - 1))
def test_a_bad_seed_or_user_raises_and_changes_nothing(seed, bad, user, action) -> None:
    env, twin = RecEnv(WORLD, horizon=6, history_len=3), RecEnv(WORLD, horizon=6, history_len=3)
    env.reset(seed=seed), twin.reset(seed=seed)
    with pytest.raises(ValueError, match="user" if user else "seed"):
        env.reset(seed=seed + 1, options={"user": bad}) if user else env.reset(seed=bad)
    assert np.array_equal(env.step(action)[0]["recent_items"], twin.step(action)[0]["recent_items"])


@settings(max_examples=100)
@given(bad=BAD_VALUES.filter(lambda v: v is not None), tensors=st.booleans())
def test_the_batched_env_refuses_a_bad_seed(bad, tensors) -> None:
    env = RecVectorEnv(WORLD, 3, horizon=6, history_len=3)
    with pytest.raises(ValueError, match="seed"):
        env.reset_tensors(bad) if tensors else env.reset(seed=bad)
