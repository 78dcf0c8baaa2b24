"""CleanRL's DQN loop (bench/cleanrl_dqn.py) runs on a recgym id given as a library's user gives it; the
clients bench's popular and its paired comparison are what they say."""

from __future__ import annotations

import numpy as np
import pytest
from bench_scripts import load_bench

ENV = "recgym.envs:recgym/SyntheticWorld-Dense-v0"
CANDIDATES = "recgym.envs:recgym/SyntheticWorld-Candidates-v0"


def test_cleanrls_loop_trains_on_the_module_qualified_dense_id() -> None:
    cleanrl = load_bench("cleanrl_dqn")
    config = cleanrl.CleanRLDQN(total_timesteps=400, learning_starts=100, batch_size=16, buffer_size=500)
    q = cleanrl.cleanrl_dqn(ENV, config)
    greedy = cleanrl.episode_returns(ENV, cleanrl.greedy(q), episodes=3, seed=0)
    random = cleanrl.episode_returns(ENV, cleanrl.random_allowed(0), episodes=3, seed=0)
    assert greedy.shape == random.shape == (3,) and np.isfinite(greedy).all() and (random >= 0).all()


def test_the_baselines_of_the_clients_bench_never_repeat_an_item() -> None:
    cleanrl = load_bench("cleanrl_dqn")
    shown: list[int] = []

    def recorded(obs, info) -> int:
        action = cleanrl.ranked_allowed(np.arange(200))(obs, info)
        shown.append(action)
        return action

    cleanrl.episode_returns(ENV, recorded, episodes=1, seed=0)
    assert len(shown) == len(set(shown))


def test_popular_takes_the_first_candidate_and_scores_as_on_the_dense_id() -> None:
    cleanrl = load_bench("cleanrl_dqn")
    popular = cleanrl.ranked_allowed(load_bench("clients").popularity_order())
    actions: list[int] = []

    def recorded(obs, info) -> int:
        actions.append(popular(obs, info))
        return actions[-1]

    on_candidates = cleanrl.episode_returns(CANDIDATES, recorded, episodes=3, seed=0)
    assert set(actions) == {0}
    np.testing.assert_array_equal(on_candidates, cleanrl.episode_returns(ENV, popular, episodes=3, seed=0))


def test_the_paired_difference_is_each_sessions_return_minus_populars() -> None:
    clients = load_bench("clients")
    rows = [{"client": "popular", "returns": [1.0, 2.0, 3.0]}, {"client": "q", "returns": [2.0, 2.0, 5.0]}]
    paired = clients.versus_popular(rows)
    assert paired[0]["minus_popular"] == [0.0, 0.0, 0.0]
    mean, low, high = paired[1]["minus_popular"]
    half = 1.96 * np.std([1.0, 0.0, 2.0], ddof=1) / np.sqrt(3)
    assert mean == 1.0 and np.isclose(low, 1.0 - half) and np.isclose(high, 1.0 + half)


def result(seed: int, returns: list[float], popular: list[float], first_session: int = 10_000) -> dict:
    settings = {"env": CANDIDATES, "episodes": len(popular), "first_session": first_session}
    rows = [
        {"client": "popular", "budget": 0, "seed": 0, "returns": popular},
        {"client": "q", "budget": 100, "seed": seed, "returns": returns},
    ]
    return {"settings": settings, "rows": rows}


def test_the_pooled_difference_averages_each_session_over_the_seeds() -> None:
    pooled = load_bench("pooled")
    results = [result(1, [2.0, 2.0, 5.0], [1.0, 2.0, 3.0]), result(2, [0.0, 4.0, 3.0], [1.0, 2.0, 3.0])]
    mean, low, high = pooled.pooled_minus_popular(results, "q")
    per_session = np.array([0.0, 1.0, 1.0])  # (2 + 0) / 2 - 1, (2 + 4) / 2 - 2, (5 + 3) / 2 - 3
    half = 1.96 * per_session.std(ddof=1) / np.sqrt(3)
    assert np.isclose(mean, 2 / 3) and np.isclose(low, 2 / 3 - half) and np.isclose(high, 2 / 3 + half)


def test_the_pooled_difference_refuses_to_mix_sessions_or_count_a_seed_twice() -> None:
    pooled = load_bench("pooled")
    one = result(1, [2.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="different sessions"):
        pooled.pooled_minus_popular([one, result(2, [2.0, 2.0], [1.0, 2.0], first_session=20_000)], "q")
    with pytest.raises(ValueError, match="popular returns differ"):
        pooled.pooled_minus_popular([one, result(2, [2.0, 2.0], [1.0, 3.0])], "q")
    with pytest.raises(ValueError, match="appears twice"):
        pooled.pooled_minus_popular([one, one], "q")
    with pytest.raises(ValueError, match="no 'cleanrl' rows"):
        pooled.pooled_minus_popular([one], "cleanrl")
