"""The long-term trade-off over seeds: does a planning agent beat greedy supervised on the whole session?

    python -m experiments.tradeoff --workers 2                          # the synthetic default world
    python -m experiments.tradeoff --data movielens --path ../shared/data/ml-100k --likes --workers 2

Runs `experiments.dqn` (learned dynamics by default) once per seed and puts, for every policy, the
mean over seeds of the return, session length and click rate with 95% intervals beside each other,
plus the paired (same seed, same users) difference between the agent and greedy. The report then
says plainly whether greedy has the best immediate click rate and whether the agent gets longer
sessions and a higher return. Writes results.json, report.md and tradeoff.png.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from recgym.checkpoint import atomic_write_json, atomic_write_text
from recgym.experiments import dqn
from recgym.experiments.common import env_name, run_cli
from recgym.experiments.seeds import run_seeds
from recgym.experiments.tradeoff_plot import plot_tradeoff
from recgym.intervals import format_interval, mean_interval, metric_interval
from recgym.run_folders import make_run_dir

METRICS = ("return_mean", "session_length", "ctr", "coverage", "diversity")


@dataclass
class Args(dqn.Args):
    """experiments.dqn over several seeds, summarised."""

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Seeds of the agent and the evaluation (the simulator stays the same)."""
    workers: int = 1
    """Seeds run in parallel processes (one torch thread each)."""


def main(args: Args) -> dict[str, Any]:
    start = time.perf_counter()
    run_dir = make_run_dir(
        args.out,
        env_name(args.data, args.path, args.user_model.model, args.simulator),
        "tradeoff",
        args.seeds[0],
    )
    per_seed = run_seeds(dqn.main, _single(args), args.seeds, args.workers)
    agent = next(name for name in per_seed[0]["policies"] if name not in ("greedy", "popular", "random"))
    policies = {
        name: {
            metric: metric_interval(metric, [run["policies"][name][metric] for run in per_seed])
            for metric in METRICS
        }
        for name in per_seed[0]["policies"]
    }
    paired = {
        metric: mean_interval(
            [run["policies"][agent][metric] - run["policies"]["greedy"][metric] for run in per_seed]
        )
        for metric in ("return_mean", "session_length", "ctr")
    }
    results = {
        "env": env_name(args.data, args.path, args.user_model.model, args.simulator),
        "agent": agent,
        "seeds": list(args.seeds),
        "policies": policies,
        f"{agent}_minus_greedy": paired,
        "verdict": verdict(agent, policies, paired),
        "dynamics": per_seed[0].get("dynamics"),
        "config": asdict(args),
        "wall_seconds": time.perf_counter() - start,
    }
    atomic_write_json(run_dir / "results.json", results)
    atomic_write_text(run_dir / "report.md", markdown_report(results))
    plot_tradeoff(policies, run_dir / "tradeoff.png", title=f"{results['env']}, {len(args.seeds)} seeds")
    print(markdown_report(results))
    print(f"wrote {run_dir}/report.md in {results['wall_seconds']:.0f} s")
    return results


def _single(args: Args) -> dqn.Args:
    """The per-seed experiments.dqn arguments (no progress bars from parallel workers)."""
    fields = {key: value for key, value in vars(args).items() if key not in ("seeds", "workers")}
    return dqn.Args(**fields | {"progress": args.progress and args.workers <= 1})


def verdict(agent: str, policies: dict[str, Any], paired: dict[str, Any]) -> list[str]:
    """Plain sentences on the trade-off, each backed by an interval that excludes zero or not."""
    best_ctr = max(policies, key=lambda name: policies[name]["ctr"]["mean"])

    def signed(metric: str, words: tuple[str, str, str]) -> str:
        low, high = paired[metric]["ci95"]
        text = words[0] if low > 0 else words[1] if high < 0 else words[2]
        return f"{text} ({agent} - greedy = {format_interval(paired[metric])})"

    return [
        f"highest click rate: {best_ctr} ({policies[best_ctr]['ctr']['mean']:.3f})",
        "sessions: "
        + signed("session_length", ("the agent's are longer", "greedy's are longer", "no clear difference")),
        "return: "
        + signed("return_mean", ("the agent earns more", "greedy earns more", "no clear difference")),
    ]


def markdown_report(results: dict[str, Any]) -> str:
    lines = [
        f"# Long-term trade-off: {results['env']}, seeds {results['seeds']}",
        "",
        "Mean over seeds [95% t-interval]:",
        "",
        "| policy | return | session length | CTR | coverage | diversity |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    ranked = sorted(results["policies"].items(), key=lambda item: -item[1]["return_mean"]["mean"])
    for name, metrics in ranked:
        lines.append(f"| {name} | " + " | ".join(format_interval(metrics[m]) for m in METRICS) + " |")
    lines += ["", *[f"- {sentence}" for sentence in results["verdict"]]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run_cli(main, Args)
