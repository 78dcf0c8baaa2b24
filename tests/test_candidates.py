"""Candidate actions (envs/candidates.py): the best unshown items by popularity, each a fresh item, in an
observation whose width does not grow with the catalog; bad input is a clear error."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import TINY_WORLD
from gymnasium.utils.env_checker import check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from recgym.data.synthetic import DefaultLogs, LoggingConfig, generate_logs
from recgym.envs import CandidateEnv, RecEnv, SlateEnv
from recgym.simulators.world import GroundTruthConfig, GroundTruthWorld

HISTORY, HORIZON, K = 4, 6, 5


def known_world(config: GroundTruthConfig = TINY_WORLD) -> GroundTruthWorld:
    """The world knowing its default logs, as `make_simulator("world")` makes it."""
    return GroundTruthWorld(config, logs=DefaultLogs())


def candidate_env(world: GroundTruthWorld | None = None, k: int = K, order=None) -> CandidateEnv:
    world = world or known_world()
    return CandidateEnv(RecEnv(world, horizon=HORIZON, history_len=HISTORY, observation="dense"), k, order)


@pytest.mark.filterwarnings("ignore:.*different from the unwrapped")  # a wrapper, as it should be
def test_the_candidate_env_passes_gymnasiums_and_sb3s_checkers() -> None:
    check_env(candidate_env(), skip_render_check=True)
    sb3_check_env(candidate_env())


def test_the_worlds_item_popularity_is_its_logged_clicks() -> None:
    log, _ = generate_logs(LoggingConfig(world=TINY_WORLD))
    clicked = log.frame.loc[log.frame["rating"] == 1.0, "item"]  # clicks (0/1 ratings), by raw item id
    expected = np.zeros(TINY_WORLD.n_items)
    for raw_item in log.item_ids[clicked.to_numpy()]:
        expected[raw_item] += 1
    assert expected.sum() > 0
    world = known_world()
    np.testing.assert_array_equal(world.item_popularity.numpy(), expected)


def test_candidates_are_the_most_popular_unshown_items_and_never_repeat() -> None:
    world = known_world()
    order = np.argsort(-world.item_popularity.numpy(), kind="stable")
    env, rng = candidate_env(world), np.random.default_rng(0)
    for seed in range(5):
        observation, info = env.reset(seed=seed)
        shown: list[int] = []
        done = False
        while not done:
            np.testing.assert_array_equal(info["candidates"], [i for i in order if i not in shown][:K])
            action = int(rng.integers(K))
            observation, _, terminated, truncated, info = env.step(action)
            shown.append(info["item"])
            done = terminated or truncated
        assert len(shown) == len(set(shown))  # every action recommends a fresh item


def test_always_the_first_candidate_is_most_popular_step_for_step() -> None:
    world = known_world()
    order = np.argsort(-world.item_popularity.numpy(), kind="stable")
    env = candidate_env(world)
    plain = RecEnv(world, horizon=HORIZON, history_len=HISTORY, observation="dense")
    _, info = env.reset(seed=7)
    _, plain_info = plain.reset(seed=7)
    done = False
    while not done:
        item = next(int(i) for i in order if plain_info["action_mask"][i])
        _, reward, terminated, truncated, info = env.step(0)
        _, plain_reward, *_, plain_info = plain.step(item)
        assert info["item"] == item and reward == plain_reward
        done = terminated or truncated


def test_the_observation_is_the_dense_one_then_the_candidates_vectors() -> None:
    world = known_world()
    env = candidate_env(world, order=np.arange(TINY_WORLD.n_items)[::-1])
    plain = RecEnv(world, horizon=HORIZON, history_len=HISTORY, observation="dense")
    observation, info = env.reset(seed=1)
    plain_observation, _ = plain.reset(seed=1)
    for _ in range(3):
        kept = len(plain_observation) - TINY_WORLD.n_items
        vectors = torch.nn.functional.normalize(world.item_vectors, dim=-1)[info["candidates"]]
        np.testing.assert_allclose(observation[:kept], plain_observation[:kept])
        np.testing.assert_allclose(observation[kept:], vectors.flatten().numpy(), atol=1e-6)
        assert env.observation_space.contains(observation)
        observation, _, _, _, info = env.step(1)
        plain_observation, *_ = plain.step(info["item"])


def test_the_observations_width_does_not_grow_with_the_catalog() -> None:
    small = candidate_env(known_world())
    large = candidate_env(known_world(GroundTruthConfig(n_users=20, n_items=60, n_topics=3, dim=4, seed=0)))
    assert small.observation_space.shape == large.observation_space.shape
    assert small.action_space == large.action_space == gym.spaces.Discrete(K)


def test_the_registered_id_takes_k_and_the_worlds_plain_kwargs() -> None:
    tiny = {"n_users": 20, "n_items": 15, "n_topics": 3, "dim": 4}
    env = gym.make(
        "recgym.envs:recgym/SyntheticWorld-Candidates-v0", k=3, horizon=HORIZON, simulator_kwargs=tiny
    )
    observation, info = env.reset(seed=0)
    assert env.action_space == gym.spaces.Discrete(3) and len(info["candidates"]) == 3
    assert info["action_mask"].tolist() == [1, 1, 1] and env.observation_space.contains(observation)


@pytest.mark.parametrize(
    ("k", "order", "message"),
    [
        (0, None, r"k \(at most n_items - horizon\) must be an integer in \[1, 9\]"),
        (TINY_WORLD.n_items - HORIZON + 1, None, r"must be an integer in \[1, 9\]"),
        (2.0, None, "must be an integer"),
        (True, None, "must be an integer"),
        (K, [0, 1, 2], "each of the 15 item ids exactly once"),
        (K, [0] * 15, "each of the 15 item ids exactly once"),
        (K, np.zeros((15, 1), np.int64), "1-d sequence of item ids"),
    ],
)
def test_bad_candidate_settings_are_clear_errors(k, order, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        candidate_env(k=k, order=order)


def test_the_largest_k_keeps_k_candidates_to_the_sessions_end() -> None:
    largest = TINY_WORLD.n_items - HORIZON
    env = candidate_env(k=largest)
    for seed in range(10):
        observation, info = env.reset(seed=seed)
        done = False
        while not done:
            observation, _, terminated, truncated, info = env.step(largest - 1)
            assert env.observation_space.contains(observation) and len(set(info["candidates"])) == largest
            done = terminated or truncated


def test_reset_options_and_gym_makes_checks_pass_through() -> None:
    made = gym.make(
        "recgym.envs:recgym/SyntheticWorld-Dense-v0",
        horizon=HORIZON,
        history_len=HISTORY,
        simulator_kwargs={"n_users": 20, "n_items": 15, "n_topics": 3, "dim": 4},
    )
    env = CandidateEnv(made, K)
    _, info = env.reset(seed=0, options={"user": 11})
    assert info["user"] == 11 and len(info["candidates"]) == K


def test_a_dict_env_a_bad_action_and_a_step_before_reset_are_clear_errors() -> None:
    world = known_world()
    with pytest.raises(ValueError, match="observation='dense'"):
        CandidateEnv(RecEnv(world, horizon=HORIZON))
    with pytest.raises(ValueError, match="one item a step"):
        CandidateEnv(SlateEnv(world, HORIZON, HISTORY, observation="dense"))
    flattened = gym.wrappers.TransformObservation(
        RecEnv(world, horizon=HORIZON, observation="dense"), lambda o: o[:3], gym.spaces.Box(-1, 1, (3,))
    )
    with pytest.raises(ValueError, match="own spaces"):
        CandidateEnv(flattened)
    with pytest.raises(ValueError, match="more items than the horizon: 15 items, horizon 15"):
        CandidateEnv(RecEnv(world, horizon=15, observation="dense"))
    with pytest.raises(ValueError, match="leave observation= unset"):
        gym.make("recgym.envs:recgym/SyntheticWorld-Candidates-v0", observation="dict")
    with pytest.raises(ValueError, match="need an item order: pass order=, or give GroundTruthWorld"):
        candidate_env(GroundTruthWorld(TINY_WORLD))  # handed no logs, it knows no popularity
    env = candidate_env()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    for action in (K, -1, True, 1.0):
        with pytest.raises(ValueError, match=r"candidate index in \[0, 5\)"):
            env.step(action)
