"""Outside RL libraries on recgym, from their own unmodified code: do they beat random and popular?

    python bench/clients.py --clients cleanrl --budgets 20000 50000  # CleanRL's loop: bench/cleanrl_dqn.py

Each client trains on `recgym/SyntheticWorld-Dense-v0` (the synthetic ground-truth world, 500 users,
200 items, the dense observation; `--env` another id, such as `recgym/SyntheticWorld-Candidates-v0`),
seeds 1, 2 and 3, for each step budget; its greedy policy is then scored on the same 300 sessions
(seeds 10,000...; `--episodes`, `--first-session`) as the random (among items not yet shown) and the
most-popular (by the synthetic logs' clicks) baselines: as CleanRL's evaluation takes it (no mask),
and among items not yet shown (`<client>, masked`: the same Q-network; `--no-masked` leaves it out, as
on candidate actions, which are all unshown items, so that no step can repeat one there). Each row
also has its return minus popular's on the same sessions (`minus_popular`: mean and 95% interval of
the paired differences; above zero, it beats popular; bench/pooled.py pools a client's seeds).
Writes JSON rows {"client", "budget", "seed", "return_mean", "return_ci95", "minus_popular",
"repeat_share", "train_seconds", "returns"} and prints a table. One thread.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

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

from recgym.envs import candidates
from recgym.runs.checkpoint import atomic_write_json
from recgym.simulators.registry import make_simulator

ENV = "recgym.envs:recgym/SyntheticWorld-Dense-v0"
Policy = Callable[[np.ndarray, dict], int]  # (observation, info) -> action: an item, or a candidate


@dataclass
class Args:
    clients: tuple[Literal["cleanrl"], ...] = ("cleanrl",)
    """Which clients (cleanrl; Tianshou needs a venv of its own: bench/tianshou_dqn.py)."""
    budgets: tuple[int, ...] = (20_000, 50_000)
    """Training env-steps per run."""
    seeds: tuple[int, ...] = (1, 2, 3)
    episodes: int = 300
    """Evaluated sessions per policy (the same sessions for all)."""
    first_session: int = 10_000
    """The first evaluated session's seed (the others follow it)."""
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
    masked: bool = True
    """Also score each Q-network among items not yet shown (`<client>, masked`); with candidate actions
    (`recgym/SyntheticWorld-Candidates-v0`), which are all unshown, it is the same policy: --no-masked."""
    env: str = ENV
    """The env id to train and score on: the synthetic world, or a simulator fitted on its logs such as
    `recgym.envs:recgym/NeuMF-Synthetic-Dense-v0` (popular ranks by the same logs' clicks)."""
    out: str = "bench/results/clients.json"


@dataclass(frozen=True)
class Sessions:
    """The sessions every policy of a run is scored on: the same seeds, so the same users, for all."""

    env: str = ENV
    episodes: int = 300
    first: int = 10_000
    """The first session's seed; the others follow it."""


def summary(returns: np.ndarray) -> dict[str, float | list[float]]:
    half = 1.96 * returns.std(ddof=1) / np.sqrt(len(returns))
    return {
        "return_mean": float(returns.mean()),
        "return_ci95": [returns.mean() - half, returns.mean() + half],
    }


def paired(differences: np.ndarray) -> list[float]:
    """[mean, low, high]: per-session differences from popular's return, with their 95% interval."""
    difference = summary(differences)
    return [difference["return_mean"], *difference["return_ci95"]]


def scored(client: str, budget: int, seed: int, seconds: float, act: Policy, sessions: Sessions) -> dict:
    """One table row: a policy's return on the sessions, the share of its steps that recommended an item
    already shown in the session, and each session's return."""
    steps, repeats = 0, 0

    def counted(observation: np.ndarray, info: dict) -> int:
        nonlocal steps, repeats
        action = act(observation, info)
        steps, repeats = steps + 1, repeats + int(info["action_mask"][action] == 0)
        return action

    row = {"client": client, "budget": budget, "seed": seed, "train_seconds": seconds}
    returns = episode_returns(sessions.env, counted, sessions.episodes, sessions.first)
    return row | summary(returns) | {"repeat_share": repeats / steps, "returns": returns.tolist()}


def versus_popular(rows: list[dict]) -> list[dict]:
    """rows, each with `minus_popular`: the mean and 95% interval of its per-session return minus
    popular's on the same sessions (same seeds, so the same users), the paired test of beating it."""
    populars = [r for r in rows if r["client"] == "popular"]
    if len(populars) != 1:
        raise ValueError(f"rows need one popular row to compare with, got {len(populars)}")
    popular = np.asarray(populars[0]["returns"])
    return [row | {"minus_popular": paired(np.asarray(row["returns"]) - popular)} for row in rows]


def popularity_order() -> np.ndarray:
    """Items by their clicks in the synthetic logs, most clicked first: what popular recommends."""
    return candidates.popularity_order(make_simulator("world"))


def baseline_rows(sessions: Sessions) -> list[dict]:
    """Random and most-popular (by the synthetic logs' clicks), both among items not yet shown (with
    candidate actions: a random candidate, and the first, which is most-popular's item)."""
    popular = ranked_allowed(popularity_order())
    return [
        scored(name, 0, 0, 0.0, act, sessions)
        for name, act in (("random", random_allowed(0)), ("popular", popular))
    ]


def client_rows(
    client: str,
    budget: int,
    seed: int,
    seconds: float,
    q: Callable[[torch.Tensor], torch.Tensor],
    sessions: Sessions,
    masked: bool = True,
) -> list[dict]:
    """The rows of a trained Q-network (a batch -> Q-values callable): its greedy action as the client
    evaluates it (no mask) and, if masked, its best item among those not yet shown."""
    rows = [scored(client, budget, seed, seconds, greedy(q), sessions)]
    if masked:
        rows.append(scored(f"{client}, masked", budget, seed, seconds, greedy_allowed(q), sessions))
    return rows


def print_table(rows: list[dict]) -> None:
    print("| client | steps | seed | return (95% CI) | minus popular, paired (95% CI) | repeats | train s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in versus_popular(rows):
        low, high = r["return_ci95"]
        interval = f"{r['return_mean']:.3f} [{low:.3f}, {high:.3f}]"
        versus = "{:+.3f} [{:+.3f}, {:+.3f}]".format(*r["minus_popular"])
        cells = [r["client"], r["budget"], r["seed"], interval, versus, f"{r['repeat_share']:.1%}"]
        print("| " + " | ".join(map(str, cells)) + f" | {r['train_seconds']:.0f} |")


def main(args: Args) -> list[dict]:
    torch.set_num_threads(1)
    unknown = set(args.clients) - {"cleanrl"}
    if unknown:
        raise ValueError(
            f"unknown clients {sorted(unknown)}: only cleanrl runs here (Tianshou: bench/tianshou_dqn.py)"
        )
    sessions = Sessions(args.env, args.episodes, args.first_session)
    rows = baseline_rows(sessions)
    for client in args.clients:
        for budget in args.budgets:
            for seed in args.seeds:
                start = time.perf_counter()
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
                rows += client_rows(client, budget, seed, seconds, q, sessions, args.masked)
                print_table(rows[:2] + rows[-1 - args.masked :])  # the baselines and this run
    print_table(rows)
    rows = versus_popular(rows)
    atomic_write_json(args.out, {"settings": vars(args), "rows": rows})
    return rows


if __name__ == "__main__":
    main(tyro.cli(Args))
