"""Properties of the envs' construction, `step` and `reset` on every face (docs/ROBUSTNESS.md): a
malformed action, seed, user, option or size raises an error naming it and leaves the env exactly as it
was (a twin env that never saw it steps the same), NumPy integers act as the equal Python ints, and
valid actions keep every observation inside the observation space."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from env_faces import (
    FACES,
    HISTORY,
    HORIZON,
    NUMPY_INTS,
    B,
    bad_actions,
    bad_options,
    same,
    same_observation,
    valid_actions,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from recgym.envs import RecEnv, RecVectorEnv
from recgym.simulators.world import GroundTruthConfig, GroundTruthWorld

WORLD = GroundTruthWorld(GroundTruthConfig(n_users=6, n_items=5, n_topics=2, dim=3, seed=0))
SEEDS = st.integers(0, 2**32)


@settings(max_examples=240)
@given(face=st.sampled_from(FACES), seed=SEEDS, data=st.data())
@pytest.mark.slow
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


@settings(max_examples=150)
@given(face=st.sampled_from(FACES), dtype=st.sampled_from(NUMPY_INTS), data=st.data())
@pytest.mark.slow
def test_numpy_integers_act_as_the_equal_python_ints(face, dtype, data) -> None:
    """num_envs, horizon, history_len, the seed, the users and the actions as NumPy integers of any
    width: the same observations, rewards and ends as a twin env given the equal Python ints."""
    num_envs = data.draw(st.integers(1, 4), label="num_envs") if face.batched else 1
    horizon, history_len = (
        data.draw(st.integers(1, 6), label="horizon"),
        data.draw(st.integers(1, 4), label="H"),
    )
    top = min(int(np.iinfo(dtype).max), 2**63 - num_envs)
    seed = data.draw(st.integers(0, top) | st.integers(0, 127), label="seed")
    users = st.integers(0, WORLD.n_users - 1)
    user = data.draw(st.none() | users | st.lists(users, min_size=num_envs, max_size=num_envs), label="user")
    env = face.make(WORLD, dtype(num_envs), dtype(horizon), dtype(history_len))
    twin = face.make(WORLD, num_envs, horizon, history_len)
    numpy_user = user if user is None else np.array(user, dtype=dtype)[()]
    assert same_observation(env.reset(dtype(seed), numpy_user), twin.reset(seed, user))
    shape = face.action_shape(num_envs)
    steps = st.lists(arrays(np.int64, shape, elements=st.integers(0, WORLD.n_items - 1)), max_size=8)
    for action in data.draw(steps, label="actions"):
        if face.tensors:  # torch tensors, not NumPy, on this face
            assert same(env.step(torch.from_numpy(action)), twin.step(torch.from_numpy(action)))
        else:
            assert same(env.step(action.astype(dtype)[()]), twin.step(action if shape else int(action)))


@settings(max_examples=150)
@given(face=st.sampled_from(FACES), seed=SEEDS, data=st.data())
@pytest.mark.slow
def test_bad_reset_options_raise_and_change_nothing(face, seed, data) -> None:
    env, twin = face.make(WORLD), face.make(WORLD)
    env.reset(seed), twin.reset(seed)
    options = data.draw(bad_options(face, WORLD.n_users), label="options")
    with pytest.raises(ValueError, match="option|user"):
        env.reset_with(seed + 1, options)
    action = data.draw(valid_actions(face, WORLD.n_items), label="after")
    assert same(env.step(action), twin.step(action))


TOO_BIG = st.integers(2**40, 2**63 - 1)  # sessions no memory holds
BAD_SIZES = st.one_of(
    st.integers(max_value=0),
    st.integers(min_value=2**63),
    st.floats(),
    st.booleans(),
    st.text(max_size=3),
    st.just(np.bool_(True)),
    st.just(np.float32(2)),
    st.none(),
)


@settings(max_examples=100)
@given(face=st.sampled_from(FACES), data=st.data())
def test_a_bad_size_is_refused_by_name(face, data) -> None:
    names = ["num_envs", "horizon", "history_len"] if face.batched else ["horizon", "history_len"]
    name = data.draw(st.sampled_from(names), label="name")
    bad = data.draw(BAD_SIZES if name == "horizon" else BAD_SIZES | TOO_BIG, label="bad")
    sizes = {"num_envs": B, "horizon": HORIZON, "history_len": HISTORY} | {name: bad}
    with pytest.raises(ValueError, match=name):
        face.make(WORLD, **sizes)
