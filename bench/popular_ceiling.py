"""What stands between a Q-network with one output per item and most-popular on `SyntheticWorld-Dense-v0`.

    OMP_NUM_THREADS=1 python bench/popular_ceiling.py --samples 500000 \
        --out bench/results/popular-ceiling.json

Scores, on the 300 sessions of bench/clients.py (seeds 10,000...), beside random and popular:
- `mean-ctr order`: items ranked by their true click probability averaged over all users at a fresh
  state (read from the world itself, which no agent can), each session's unshown items in that order.
  The best ranking that ignores who the user is and what happened in the session.
- `regressor`: a network fitted to predict the click of every (observation, item) pair of `--samples`
  uniformly random steps (mean squared error, one output per item as a DQN's, 10 epochs of Adam), then
  its greedy item, as CleanRL's evaluation takes it (`unmasked`) and among unshown items (`masked`). A
  myopic Q-network with far more data and updates than a DQN's budget gets.
Also prints the mean over users of their best item's click probability, the room personalising leaves,
and how alike the first 10 items of popular's and the mean-ctr order are (mean pairwise cosine).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
import tyro
from cleanrl_dqn import greedy, greedy_allowed, ranked_allowed
from clients import ENV, Sessions, baseline_rows, popularity_order, print_table, scored
from torch import nn

from recgym.random import RowStreams
from recgym.runs.checkpoint import atomic_write_json
from recgym.simulators.registry import make_simulator


@dataclass
class Args:
    samples: int = 100_000
    """Uniformly random steps the regressor is fitted on."""
    hidden: int = 256
    """Units of each of the regressor's two hidden layers."""
    episodes: int = 300
    out: str = "bench/results/popular-ceiling.json"


def mean_ctr_order(world) -> tuple[np.ndarray, float]:
    """Items by their click probability averaged over all users at a fresh state, and the mean over
    users of their best item's probability."""
    users = torch.arange(world.n_users)
    state = world.initial_state(users, RowStreams.from_seeds(users.tolist()))
    items = range(world.n_items)
    ctr = torch.stack([world.click_probability(state, torch.full_like(users, item)) for item in items], 1)
    return torch.argsort(-ctr.mean(0)).numpy(), float(ctr.max(1).values.mean())


def uniform_steps(samples: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Observations, items and rewards of `samples` uniformly random steps (sessions reset on end)."""
    env = gym.make(ENV, compile=True)
    rng = np.random.default_rng(0)
    observations, actions, rewards = [], [], []
    observation, _ = env.reset(seed=0)
    for _ in range(samples):
        action = int(rng.integers(env.action_space.n))
        following, reward, terminated, truncated, _ = env.step(action)
        observations.append(observation)
        actions.append(action)
        rewards.append(reward)
        observation = env.reset()[0] if terminated or truncated else following
    return torch.as_tensor(np.array(observations)), torch.as_tensor(actions), torch.tensor(rewards)


def fitted_regressor(observations, actions, rewards, hidden: int) -> nn.Module:
    torch.manual_seed(0)
    n_items = int(actions.max()) + 1
    network = nn.Sequential(
        nn.Linear(observations.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
        nn.Linear(hidden, n_items),
    )  # fmt: skip
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
    for _ in range(10):
        for batch in torch.randperm(len(actions)).split(256):
            predicted = network(observations[batch]).gather(1, actions[batch, None]).squeeze(1)
            loss = nn.functional.mse_loss(predicted, rewards[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return network


def top_similarity(world, order: np.ndarray, k: int = 10) -> float:
    """Mean cosine similarity between distinct pairs of the first k items of order (the world's item
    vectors): how alike the items a ranking shows first are, which fatigue punishes."""
    vectors = nn.functional.normalize(world.item_vectors[torch.as_tensor(order[:k].copy())].float(), dim=-1)
    similarity = vectors @ vectors.T
    return float((similarity.sum() - similarity.trace()) / (k * (k - 1)))


def main(args: Args) -> list[dict]:
    torch.set_num_threads(1)
    sessions = Sessions(ENV, args.episodes)
    rows = baseline_rows(sessions)
    world = make_simulator("world")
    order, best_item = mean_ctr_order(world)
    rows.append(scored("mean-ctr order", 0, 0, 0.0, ranked_allowed(order), sessions))
    orders = {"popular": popularity_order(), "mean-ctr order": order}
    similarity = {name: top_similarity(world, ranking) for name, ranking in orders.items()}
    start = time.perf_counter()
    network = fitted_regressor(*uniform_steps(args.samples), args.hidden)
    seconds = time.perf_counter() - start
    for name, act in (
        ("regressor, unmasked", greedy(network)),
        ("regressor, masked", greedy_allowed(network)),
    ):
        rows.append(scored(name, args.samples, 0, seconds, act, sessions))
    print_table(rows)
    print(f"mean over users of their best item's click probability: {best_item:.3f}")
    print(f"mean cosine similarity of the first 10 items: {similarity}")
    results = {"rows": rows, "best_item_click": best_item, "top10_similarity": similarity}
    atomic_write_json(args.out, {"settings": vars(args)} | results)
    return rows


if __name__ == "__main__":
    main(tyro.cli(Args))
