"""Outside RL libraries on recgym, from their own unmodified code: do they beat random and popular?

    python bench/clients.py --clients cleanrl --budgets 20000 50000  # CleanRL's loop: bench/cleanrl_dqn.py

Each client trains on `recgym/SyntheticWorld-Dense-v0` (the synthetic ground-truth world, 500 users,
200 items, the dense observation; `--env` another id), seeds 1, 2 and 3, for each step budget; its
greedy policy is then scored on the same 300 sessions (seeds 10,000...) as the random (among items not
yet shown) and the most-popular (by the synthetic logs' clicks) baselines: as CleanRL's evaluation
takes it (no mask), and among items not yet shown (`<client>, masked`: the same Q-network). Writes
JSON rows {"client", "budget", "seed", "return_mean", "return_ci95", "repeat_share", "train_seconds"}
and prints a table. One thread.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import tyro
from cleanrl_dqn import (
    CleanRLDQN,
    cleanrl_dqn,
    episode_returns,
    greedy,
    greedy_allowed,
    random_allowed,
    ranked_allowed,
)

from recgym.baselines import item_popularity
from recgym.checkpoint import atomic_write_json
from recgym.data.synthetic import LoggingConfig, generate_logs

ENV = "recgym.envs:recgym/SyntheticWorld-Dense-v0"
Policy = Callable[[np.ndarray, dict], int]  # (observation, info) -> item


@dataclass
class Args:
    clients: tuple[str, ...] = ("cleanrl",)
    """Which clients (cleanrl; Tianshou is not set up yet: docs/clients.md)."""
    budgets: tuple[int, ...] = (20_000, 50_000)
    """Training env-steps per run."""
    seeds: tuple[int, ...] = (1, 2, 3)
    episodes: int = 300
    """Evaluated sessions per policy (the same sessions for all)."""
    train_frequency: int = 10
    """CleanRL's --train-frequency (env steps per gradient step; its default is 10)."""
    gamma: float = 0.99
    """CleanRL's --gamma (its default 0.99)."""
    learning_rate: float = 2.5e-4
    """CleanRL's --learning-rate (its default 2.5e-4)."""
    buffer_size: int = 10_000
    """CleanRL's --buffer-size (its default 10,000)."""
    exploration_fraction: float = 0.5
    """CleanRL's --exploration-fraction (its default 0.5)."""
    env: str = ENV
    """The env id to train and score on: the synthetic world, or a simulator fitted on its logs such as
    `recgym.envs:recgym/NeuMF-Synthetic-Dense-v0` (popular ranks by the same logs' clicks)."""
    out: str = "bench/results/clients.json"


def summary(returns: np.ndarray) -> dict[str, float | list[float]]:
    half = 1.96 * returns.std(ddof=1) / np.sqrt(len(returns))
    return {
        "return_mean": float(returns.mean()),
        "return_ci95": [returns.mean() - half, returns.mean() + half],
    }


def scored(
    client: str, budget: int, seed: int, seconds: float, act: Policy, episodes: int, env: str = ENV
) -> dict:
    """One table row: a policy's return on the benchmark's sessions (seeds 10,000...) of env, and the
    share of its steps that recommended an item already shown in the session."""
    steps, repeats = 0, 0

    def counted(observation: np.ndarray, info: dict) -> int:
        nonlocal steps, repeats
        action = act(observation, info)
        steps, repeats = steps + 1, repeats + int(info["action_mask"][action] == 0)
        return action

    row = {"client": client, "budget": budget, "seed": seed, "train_seconds": seconds}
    returns = episode_returns(env, counted, episodes, 10_000)
    return row | summary(returns) | {"repeat_share": repeats / steps}


def popularity_order() -> np.ndarray:
    """Items by their clicks in the synthetic logs, most clicked first: what popular recommends."""
    log = generate_logs(LoggingConfig())[0]
    return np.argsort(-item_popularity(log.positives()["item"].to_numpy(), log.n_items), kind="stable")


def baseline_rows(episodes: int, env: str = ENV) -> list[dict]:
    """Random and most-popular (by the synthetic logs' clicks), both among items not yet shown."""
    popular = ranked_allowed(popularity_order())
    return [
        scored(name, 0, 0, 0.0, act, episodes, env)
        for name, act in (("random", random_allowed(0)), ("popular", popular))
    ]


def print_table(rows: list[dict]) -> None:
    print("| client | steps | seed | return (95% CI) | repeats | train s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rows:
        low, high = r["return_ci95"]
        interval = f"{r['return_mean']:.3f} [{low:.3f}, {high:.3f}]"
        cells = [r["client"], r["budget"], r["seed"], interval, f"{r['repeat_share']:.1%}"]
        print("| " + " | ".join(map(str, cells)) + f" | {r['train_seconds']:.0f} |")


def main(args: Args) -> list[dict]:
    torch.set_num_threads(1)
    rows = baseline_rows(args.episodes, args.env)
    for client in args.clients:
        for budget in args.budgets:
            for seed in args.seeds:
                start = time.perf_counter()
                if client != "cleanrl":
                    raise ValueError(f"unknown client {client!r}: only cleanrl is set up so far")
                learning_starts = min(10_000, budget // 4)
                config = CleanRLDQN(budget, seed=seed, learning_starts=learning_starts)
                config = dataclasses.replace(
                    config,
                    train_frequency=args.train_frequency,
                    gamma=args.gamma,
                    learning_rate=args.learning_rate,
                    buffer_size=args.buffer_size,
                    exploration_fraction=args.exploration_fraction,
                )
                q = cleanrl_dqn(args.env, config)
                seconds = time.perf_counter() - start
                rows.append(scored(client, budget, seed, seconds, greedy(q), args.episodes, args.env))
                masked = scored(
                    f"{client}, masked", budget, seed, seconds, greedy_allowed(q), args.episodes, args.env
                )
                rows.append(masked)
                print(rows[-2], rows[-1], sep="\n", flush=True)
    print_table(rows)
    atomic_write_json(args.out, {"settings": vars(args), "rows": rows})
    return rows


if __name__ == "__main__":
    main(tyro.cli(Args))
