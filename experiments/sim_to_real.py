"""Sim-to-real on the ground-truth world: how far to trust what a log-fitted simulator says.

    python -m experiments.sim_to_real --workers 2

The synthetic world's logs fit a simulator (user model plus learned dynamics), a DQN is trained in
that simulator, and every policy (the DQN, greedy on the fitted model, most popular, random, and a DQN
trained in the true world for reference) is evaluated both in the simulator and in the true world,
on the same users and random streams. Per seed it reports each policy's return in both, the gap, and
Kendall's tau between the two rankings of the policies; across seeds, means with 95% intervals.
Writes results.json, report.md and sim_vs_real.png.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from scipy.stats import kendalltau

from recgym.baselines import baseline_policies
from recgym.checkpoint import atomic_write_json, atomic_write_text
from recgym.data.synthetic import generate_logs
from recgym.evaluation import EvalConfig, evaluate
from recgym.experiments import dqn
from recgym.experiments.common import (
    cache_folder,
    env_name,
    log_fitted_simulator,
    logger_horizon,
    run_cli,
    run_logs,
)
from recgym.experiments.plugin import plugin_simulator
from recgym.experiments.seeds import run_seeds
from recgym.experiments.sim_to_real_plot import plot_sim_vs_real
from recgym.intervals import format_interval, mean_interval, metric_interval
from recgym.models.fitted import fit_user_model
from recgym.run_folders import make_run_dir
from recgym.simulators.world import GroundTruthWorld


@dataclass
class Args(dqn.Args):
    """Train in the fitted simulator, evaluate in both it and the true world, over several seeds."""

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Seeds of the agents and the evaluation."""
    workers: int = 1
    """Seeds run in parallel processes (one torch thread each)."""
    train_in_truth: bool = True
    """Also train a DQN in the true world, as the reference a perfect simulator would give."""


def one_seed(args: Args) -> dict[str, Any]:
    """Both evaluations for args.seed."""
    if args.simulator:  # a plug-in simulator is the truth; its own logs fit the simulator
        world = plugin_simulator(args.simulator, args.simulator_kwargs, args.device)
        log = run_logs(args)
    elif args.data != "synthetic":
        raise ValueError(
            "sim-to-real needs a world whose truth is known: use --data synthetic or a plug-in --simulator"
        )
    else:
        log = generate_logs(args.synthetic)[0]
        world = GroundTruthWorld(args.synthetic.world, reward=args.reward)  # the logs' world
    if (log.n_users, log.n_items) != (world.n_users, world.n_items):
        raise ValueError(
            f"the logs saw {log.n_users} of {world.n_users} users and {log.n_items} of {world.n_items} items;"
            " sim-to-real needs all of them (log more sessions per user)"
        )
    run_dir = Path(args.out) / f"seed_{args.seed}"
    fitted = fit_user_model(log, args.user_model, cache_folder(args.cache_dir), progress=False)
    simulator, _ = log_fitted_simulator(
        log, fitted, args.dynamics, args.learn_dynamics, args.reward, args.device, logger_horizon(args)
    )
    initial = dqn.initial_embeddings(fitted) if args.init_from_user_model else None
    agent = args.agent
    policies = {agent: dqn.train_agent(args, simulator, initial, run_dir / "train_sim")}
    policies |= baseline_policies(log, fitted, args.device)
    if args.train_in_truth:
        policies[f"{agent}-trained-in-truth"] = dqn.train_agent(args, world, initial, run_dir / "train_truth")
    config = EvalConfig(
        n_users=args.eval_users, horizon=args.horizon, history_len=args.history_len, seed=args.seed
    )
    in_sim = evaluate(simulator, policies, config)["policies"]
    in_truth = evaluate(world, policies, config)["policies"]
    names = list(policies)
    sim_returns = [in_sim[name]["return_mean"] for name in names]
    true_returns = [in_truth[name]["return_mean"] for name in names]
    return {
        "seed": args.seed,
        "simulator": in_sim,
        "truth": in_truth,
        "kendall_tau": float(kendalltau(sim_returns, true_returns).statistic),
    }


def main(args: Args) -> dict[str, Any]:
    start = time.perf_counter()
    world = env_name("synthetic", None, args.user_model.model, args.simulator)
    run_dir = make_run_dir(args.out, world, "sim_to_real", args.seeds[0])
    seed_args = dqn_args_for(args, run_dir)
    per_seed = run_seeds(one_seed, seed_args, args.seeds, args.workers)
    names = list(per_seed[0]["truth"])
    policies = {
        name: {
            "simulator": mean_interval([run["simulator"][name]["return_mean"] for run in per_seed]),
            "truth": mean_interval([run["truth"][name]["return_mean"] for run in per_seed]),
            "gap": mean_interval(
                [
                    run["simulator"][name]["return_mean"] - run["truth"][name]["return_mean"]
                    for run in per_seed
                ]
            ),
            "truth_session_length": metric_interval(
                "session_length", [run["truth"][name]["session_length"] for run in per_seed]
            ),
        }
        for name in names
    }
    means = [[policies[name][side]["mean"] for name in names] for side in ("simulator", "truth")]
    results = {
        "seeds": list(args.seeds),
        "policies": policies,
        "kendall_tau": mean_interval([run["kendall_tau"] for run in per_seed]),
        "kendall_tau_of_means": float(kendalltau(*means).statistic),
        "per_seed": per_seed,
        "config": asdict(args),
        "wall_seconds": time.perf_counter() - start,
    }
    atomic_write_json(run_dir / "results.json", results)
    atomic_write_text(run_dir / "report.md", markdown_report(results))
    plot_sim_vs_real(policies, run_dir / "sim_vs_real.png")
    print(markdown_report(results))
    print(f"wrote {run_dir}/report.md in {results['wall_seconds']:.0f} s")
    return results


def dqn_args_for(args: Args, run_dir: Path) -> Args:
    """Per-seed arguments: outputs under the run folder, no progress bars from parallel workers."""
    return replace(args, out=str(run_dir), progress=args.progress and args.workers <= 1)


def markdown_report(results: dict[str, Any]) -> str:
    lines = [
        f"# Sim-to-real on the synthetic world, seeds {results['seeds']}",
        "",
        "Return per session, mean over seeds [95% t-interval]; gap = simulator - truth:",
        "",
        "| policy | in the simulator | in the true world | gap | true session length |",
        "| --- | --- | --- | --- | --- |",
    ]
    ranked = sorted(results["policies"].items(), key=lambda item: -item[1]["truth"]["mean"])
    for name, row in ranked:
        cells = [format_interval(row[key]) for key in ("simulator", "truth", "gap", "truth_session_length")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Kendall's tau between the simulator's and the truth's ranking of the {len(ranked)} policies: "
        f"{format_interval(results['kendall_tau'])} per seed; "
        f"{results['kendall_tau_of_means']:.3f} on the means.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run_cli(main, Args)
