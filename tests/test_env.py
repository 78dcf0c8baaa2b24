"""The single-user Gymnasium env: API checks, registration, determinism, validation, observations."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
import stable_baselines3.common.env_checker as sb3_checker
from conftest import CLICKS, LEAVE_AFTER, TINY_WORLD
from fakes import NotASimulator
from gymnasium.utils import env_checker

import recgym.envs  # noqa: F401  (registers the recgym/ env ids)
from recgym.envs import RecEnv, RecVectorEnv

# the checkers' advice on unbounded reward boxes and render modes is not a failure
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*infinity:UserWarning"),
    pytest.mark.filterwarnings("ignore:.*render modes:UserWarning"),
]


def test_gymnasium_check_env_passes(tiny_world) -> None:
    env_checker.check_env(RecEnv(tiny_world).unwrapped)  # raises on any API violation


def test_sb3_check_env_passes(tiny_world) -> None:
    sb3_checker.check_env(RecEnv(tiny_world))


def test_check_env_passes_with_an_outside_simulator(fixed_sim) -> None:
    env_checker.check_env(RecEnv(fixed_sim))
    sb3_checker.check_env(RecEnv(fixed_sim))


def test_registered_env_builds_without_arguments_and_steps() -> None:
    env = gym.make("recgym/SyntheticWorld-v0")
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert isinstance(env.action_space, gym.spaces.Discrete) and env.action_space.n > 1
    env.action_space.seed(0)
    for _ in range(5):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs)
        assert reward in (0.0, 1.0) and isinstance(info["click"], bool)
        if terminated or truncated:
            obs, info = env.reset()
    env.close()


def comparable(info: dict) -> dict:
    """info with its action mask as a list, so that infos compare with ==."""
    return {key: value.tolist() if isinstance(value, np.ndarray) else value for key, value in info.items()}


def run_fixed_actions(env: RecEnv, seed: int, actions: np.ndarray) -> list:
    """Step through actions, resetting (unseeded) after each end; return every transition."""
    obs, info = env.reset(seed=seed)
    trace = [
        (
            "reset",
            obs["user"].tolist(),
            obs["recent_items"].tolist(),
            obs["recent_responses"].tolist(),
            comparable(info),
        )
    ]
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(int(action))
        trace.append(
            (
                obs["user"].tolist(),
                obs["recent_items"].tolist(),
                obs["recent_responses"].tolist(),
                reward,
                terminated,
                truncated,
            )
        )
        if terminated or truncated:
            obs, info = env.reset()
            trace.append(("reset", obs["user"].tolist(), obs["recent_items"].tolist(), comparable(info)))
    return trace


def test_fifty_steps_are_deterministic_given_the_seed(tiny_world) -> None:
    actions = np.random.default_rng(0).integers(tiny_world.n_items, size=50)
    first = run_fixed_actions(RecEnv(tiny_world, horizon=20), 7, actions)
    second = run_fixed_actions(RecEnv(tiny_world, horizon=20), 7, actions)
    other = run_fixed_actions(RecEnv(tiny_world, horizon=20), 8, actions)
    assert first == second
    assert first != other


def test_session_ends_by_the_horizon(tiny_world) -> None:
    env = RecEnv(tiny_world, horizon=4)
    env.reset(seed=0)
    for episode in range(10):
        for step in range(1, 5):
            _, _, terminated, truncated, _ = env.step((episode + step) % tiny_world.n_items)
            assert not (terminated and truncated)
            if terminated or truncated:
                break
        assert terminated or truncated
        assert truncated == (step == 4 and not terminated)
        env.reset()


@pytest.mark.parametrize(
    ("user", "steps", "terminated", "truncated"), [(0, 3, True, False), (1, 5, False, True)]
)
def test_terminated_when_the_user_leaves_truncated_at_the_horizon(
    fixed_sim, user, steps, terminated, truncated
) -> None:
    env = RecEnv(fixed_sim, horizon=5)
    env.reset(seed=0, options={"user": user})
    for step in range(1, steps + 1):
        _, _, term, trunc, _ = env.step(0)
        expected = step == steps
        assert (term, trunc) == ((terminated, truncated) if expected else (False, False))


@pytest.mark.parametrize("action", [-1, 5, 2.5, np.array([1, 2]), "2"])
def test_bad_action_raises_value_error_naming_it(fixed_sim, action) -> None:
    env = RecEnv(fixed_sim)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action") as error:
        env.step(action)
    assert repr(action) in str(error.value)


def test_numpy_integer_action_is_accepted(fixed_sim) -> None:
    env = RecEnv(fixed_sim)
    env.reset(seed=0, options={"user": 1})
    _, reward, _, _, info = env.step(np.int64(1))
    assert reward == 1.0 and info["click"] is True


def test_step_before_reset_raises(fixed_sim) -> None:
    with pytest.raises(RuntimeError, match="reset"):
        RecEnv(fixed_sim).step(0)


def test_accepts_an_outside_simulator_and_rejects_a_non_simulator(fixed_sim) -> None:
    env = RecEnv(fixed_sim)
    assert env.action_space.n == 5
    assert env.observation_space["user"].high.tolist() == [2]
    with pytest.raises(TypeError, match="NotASimulator"):
        RecEnv(NotASimulator())
    with pytest.raises(TypeError):
        RecEnv(object())


def test_reset_rejects_a_user_outside_the_population(fixed_sim) -> None:
    env = RecEnv(fixed_sim)
    with pytest.raises(ValueError, match="user ids"):
        env.reset(seed=0, options={"user": 3})


def test_observation_holds_recent_items_newest_last_and_their_rewards(fixed_sim) -> None:
    env = RecEnv(fixed_sim, history_len=3, horizon=10)
    obs, info = env.reset(seed=0, options={"user": 0})
    assert comparable(info) == {"user": 0, "action_mask": [1, 1, 1, 1, 1]}
    assert obs["user"].tolist() == [0]
    assert obs["recent_items"].tolist() == [0, 0, 0] and obs["recent_responses"].tolist() == [0.0, 0.0, 0.0]
    assert obs["recent_items"].dtype == np.int64 and obs["recent_responses"].dtype == np.float32
    rewards = []
    expected_items = [[0, 0, 3], [0, 3, 4], [3, 4, 1]]
    for action, items in zip([2, 3, 0], expected_items, strict=True):
        obs, reward, *_ = env.step(action)
        rewards.append(reward)
        assert obs["recent_items"].tolist() == items
        assert obs["user"].tolist() == [0]
    assert rewards == [float(CLICKS[0][a]) for a in (2, 3, 0)] == [1.0, 0.0, 1.0]
    assert obs["recent_responses"].tolist() == rewards
    assert LEAVE_AFTER[0] == 3  # the third step above is the last of user 0's session


def test_history_drops_the_oldest_item(fixed_sim) -> None:
    env = RecEnv(fixed_sim, history_len=2, horizon=10)
    env.reset(seed=0, options={"user": 1})
    for action in [4, 1, 2]:
        obs, *_ = env.step(action)
    assert obs["recent_items"].tolist() == [2, 3]
    assert obs["recent_responses"].tolist() == [1.0, 0.0]


def test_reset_clears_the_history(fixed_sim) -> None:
    env = RecEnv(fixed_sim, history_len=2)
    env.reset(seed=0, options={"user": 1})
    env.step(1)
    obs, _ = env.reset(options={"user": 2})
    assert obs["user"].tolist() == [2]
    assert obs["recent_items"].tolist() == [0, 0] and obs["recent_responses"].tolist() == [0.0, 0.0]


def test_reset_refuses_options_that_are_not_a_dict_or_unknown(fixed_sim) -> None:
    env = RecEnv(fixed_sim)
    with pytest.raises(ValueError, match="options must be a dict"):
        env.reset(seed=0, options=[1])
    with pytest.raises(ValueError, match="unknown option 'usr'"):
        env.reset(seed=0, options={"usr": 1})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"horizon": True}, "horizon"),
        ({"history_len": np.bool_(True)}, "history_len"),
        ({"horizon": 2**63}, "horizon"),
        ({"history_len": 10**12}, "history_len"),
        ({"render_mode": "human"}, "render_mode"),
    ],
)
def test_bad_sizes_are_refused_by_name(fixed_sim, kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        RecEnv(fixed_sim, **kwargs)


def test_simulator_kwargs_must_be_a_dict() -> None:
    with pytest.raises(TypeError, match="simulator_kwargs"):
        RecEnv("world", simulator_kwargs=[1])


def test_numpy_integer_sizes_seeds_and_users_act_as_python_ints(fixed_sim) -> None:
    env = RecEnv(fixed_sim, horizon=np.uint8(4), history_len=np.int16(2))
    twin = RecEnv(fixed_sim, horizon=4, history_len=2)
    assert (env.sessions.horizon, env.sessions.history_len) == (4, 2)
    seed = np.iinfo(np.int64).max
    ours = env.reset(seed=np.uint64(seed), options={"user": np.uint32(1)})
    theirs = twin.reset(seed=seed, options={"user": 1})
    assert all(np.array_equal(ours[0][key], theirs[0][key]) for key in ours[0])
    assert comparable(ours[1]) == comparable(theirs[1])
    for action in range(4):
        ours, theirs = env.step(np.uint16(action)), twin.step(action)
        assert ours[1:4] == theirs[1:4] and comparable(ours[4]) == comparable(theirs[4])
        assert np.array_equal(ours[0]["recent_items"], theirs[0]["recent_items"])


def test_ansi_render_shows_the_session(fixed_sim) -> None:
    env = RecEnv(fixed_sim, horizon=10, history_len=3, render_mode="ansi")
    assert env.render() == "no session: call reset()"
    env.reset(seed=0, options={"user": 0})
    assert env.render() == "user 0, step 0 of 10, running; recent item:reward none"
    env.step(2), env.step(3)
    assert env.render() == "user 0, step 2 of 10, running; recent item:reward 2:1 3:0"
    env.step(0)  # user 0 leaves after three steps
    assert env.render() == "user 0, step 3 of 10, ended; recent item:reward 2:1 3:0 0:1"


def test_render_without_a_render_mode_names_the_modes(fixed_sim) -> None:
    env = RecEnv(fixed_sim)
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="render_mode='ansi'"):
        env.render()


def test_gymnasium_check_env_passes_with_the_ansi_render_mode() -> None:
    env = gym.make("recgym/SyntheticWorld-v0", render_mode="ansi")
    env_checker.check_env(env.unwrapped)  # renders in every declared mode through the spec
    env.reset(seed=0)
    assert env.render().startswith("user ")


@pytest.mark.parametrize("reward", ["click", "rating", "engagement", "session_length", "retention"])
def test_responses_are_bounded_by_what_a_step_can_pay(reward) -> None:
    """check_env warned that recent_responses had infinite bounds; a DynamicsSimulator now says what
    a step can pay, and the space holds every response it gives."""
    from recgym.simulators.world import GroundTruthWorld

    world = GroundTruthWorld(TINY_WORLD, reward=reward)
    env = RecEnv(world, horizon=5)
    space = env.observation_space["recent_responses"]
    assert np.isfinite(space.low).all() and np.isfinite(space.high).all()
    if reward == "retention":
        return  # needs a learned return model to step
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env_checker.check_env(env, skip_render_check=True)
    assert not [w for w in caught if "infinity" in str(w.message) or "bound" in str(w.message)]


def test_the_batched_env_reset_says_each_rows_user() -> None:
    env = RecVectorEnv("world", num_envs=3)
    observation, info = env.reset(seed=0)
    assert info["user"].tolist() == observation["user"][:, 0].tolist() and info["_user"].all()
