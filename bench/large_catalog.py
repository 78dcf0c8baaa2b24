"""The query-vector policy on a catalog of 100,000 items: it learns, and what a step costs.

    python bench/large_catalog.py --out bench/results/large-catalog-cpu-user-rate.json

A synthetic world with `n_items` items (its item vectors play the items' content embeddings, which
a large-catalog recommender has before any interaction) is served slates of k by top-K REINFORCE,
whose policy is a query vector scored against those embeddings with shown items masked. It starts
from the content embeddings and random user embeddings, trains for `steps` user-steps, and is
evaluated against random, popular (the world's item quality) and the myopic oracle (top k of the true
click logits). The defaults are the run that learns: 200 users, so that each has about 500 training
steps, with user embeddings on a learning rate of their own.

Rows: {"policy", "return_mean", "return_ci95", "ctr", "coverage"}, plus the training time,
user-steps/s and peak memory, and two diagnostics of the trained queries at the start of a session:
their mean cosine with the user's true interest (personalisation) and with each other (a collapse onto
one query for everyone).
"""

from __future__ import annotations

import resource
import time
from dataclasses import asdict, dataclass, field

import torch
import tyro

from recgym.agents.topk_reinforce import TopKReinforce, TopKReinforceConfig
from recgym.baselines import GreedyPolicy, PopularPolicy, RandomPolicy
from recgym.envs.slate_env import SlateVectorEnv
from recgym.evaluation import EvalConfig, evaluate
from recgym.runs.checkpoint import atomic_write_json
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.world import GroundTruthConfig, GroundTruthWorld


@dataclass
class Args:
    """Large-catalog benchmark settings."""

    n_items: int = 100_000
    """Catalog size."""
    n_users: int = 200
    """Users in the world; the policy learns each one's interest from their own clicks, so `steps /
    n_users` is what it has per user."""
    n_topics: int = 1_000
    """Topics of the world; with 100,000 items and 10, each topic holds near-duplicates (users tire of
    them); 1,000 keep items apart."""
    dim: int = 32
    """Dimension of the item vectors (the content embeddings)."""
    quality_std: float = 0.0
    """Spread of the world's hidden item quality. The policy sees content embeddings only, and with
    100,000 items it cannot learn each item's quality from a few draws; 0 leaves content alone to
    decide a click."""
    slate_size: int = 5
    """Items per slate."""
    steps: int = 100_000
    """Training user-steps."""
    num_envs: int = 64
    """Users stepped together in training."""
    eval_users: int = 1_000
    """Evaluated sessions per policy."""
    horizon: int = 50
    """Longest session."""
    device: str = "cpu"
    """Torch device."""
    seed: int = 0
    """Seed of the world, the agent and the evaluation."""
    out: str = "large-catalog.json"
    """JSON file for the results."""
    agent: TopKReinforceConfig = field(
        default_factory=lambda: TopKReinforceConfig(item_bias=False, user_learning_rate=0.05)
    )
    """The agent's hyper-parameters: no per-item bias (most items are drawn only a few times), and
    user embeddings on a rate of their own (each is updated on one user's clicks only)."""


def main(args: Args) -> dict:
    world_config = GroundTruthConfig(
        n_users=args.n_users,
        n_items=args.n_items,
        n_topics=args.n_topics,
        dim=args.dim,
        quality_std=args.quality_std,
        seed=args.seed,
    )
    world = GroundTruthWorld(world_config, args.device)
    choice = ChoiceConfig(slate_size=args.slate_size)
    env = SlateVectorEnv(world, args.num_envs, horizon=args.horizon, history_len=10, choice=choice)
    generator = torch.Generator().manual_seed(args.seed)
    users = 0.1 * torch.randn(args.n_users, world.item_vectors.shape[1], generator=generator)
    agent = TopKReinforce(env, args.agent, args.seed, (users, world.item_vectors.cpu()))
    start = time.perf_counter()
    agent.learn(args.steps)
    train_seconds = time.perf_counter() - start

    def true_logits(user_ids: torch.Tensor) -> torch.Tensor:
        interest = world.user_interest[user_ids]
        return world.config.affinity_scale * interest @ world.item_vectors.T + world.item_quality

    diagnostics = query_diagnostics(agent, env, world)
    policies = {
        "topk-reinforce": agent.policy(),
        "oracle-greedy": GreedyPolicy(true_logits),
        "popular": PopularPolicy(world.item_quality.cpu()),
        "random": RandomPolicy(args.n_items),
    }
    config = EvalConfig(
        n_users=args.eval_users, horizon=args.horizon, history_len=10, seed=args.seed, choice=choice
    )
    results = evaluate(world, policies, config)["policies"]
    rows = [
        {"policy": name, **{key: m[key] for key in ("return_mean", "return_ci95", "ctr", "coverage")}}
        for name, m in results.items()
    ]
    report = {
        "n_items": args.n_items,
        "quality_std": args.quality_std,
        "n_topics": args.n_topics,
        "dim": args.dim,
        "slate_size": args.slate_size,
        "train_steps": agent.num_timesteps,
        "train_seconds": train_seconds,
        "train_user_steps_per_second": agent.num_timesteps / train_seconds,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "device": args.device,
        "agent": asdict(args.agent),
        "query_diagnostics": diagnostics,
        "rows": rows,
    }
    print("| policy | return (95% CI) | CTR | coverage |\n| --- | --- | --- | --- |")
    for row in rows:
        low, high = row["return_ci95"]
        interval = f"{row['return_mean']:.3f} [{low:.3f}, {high:.3f}]"
        print(f"| {row['policy']} | {interval} | {row['ctr']:.3f} | {row['coverage']:.4f} |")
    print(
        f"{args.n_items:,} items: trained {agent.num_timesteps:,} user-steps in {train_seconds:.0f} s "
        f"({report['train_user_steps_per_second']:,.0f}/s), peak memory {report['peak_rss_gib']:.2f} GiB"
    )
    print(
        f"queries at session start: cosine with the user's interest {diagnostics['cos_interest']:.3f}, "
        f"with each other {diagnostics['cos_between_users']:.3f}"
    )
    atomic_write_json(args.out, report)
    return report


def query_diagnostics(agent: TopKReinforce, env: SlateVectorEnv, world: GroundTruthWorld) -> dict[str, float]:
    """Mean cosine of the policy's session-start queries with the users' true interest and between users."""
    observation = env.reset_tensors(agent.seed + 1)
    with torch.no_grad():
        query = agent.network.query({key: value.float() for key, value in observation.items()})
    interest = world.user_interest[observation["user"].squeeze(1)]
    unit = torch.nn.functional.normalize(query, dim=1)
    return {
        "cos_interest": float(torch.nn.functional.cosine_similarity(query, interest).mean()),
        "cos_between_users": float((unit @ unit.T).mean()),
    }


if __name__ == "__main__":
    main(tyro.cli(Args))
