"""CleanRL's DQN loop (bench/cleanrl_dqn.py) runs on a recgym id given as a library's user gives it."""

from __future__ import annotations

import numpy as np
from bench_scripts import load_bench

ENV = "recgym.envs:recgym/SyntheticWorld-Dense-v0"


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
