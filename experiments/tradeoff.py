"""The long-term trade-off over seeds: does a planning agent beat greedy supervised on the whole session?

    python -m experiments.tradeoff --workers 2                          # the synthetic default world
    python -m experiments.tradeoff run.data:movielens --run.data.path ../shared/data/ml-100k --run.data.likes

Runs `experiments.dqn` with the `--run.*` settings (learned dynamics by default) once per seed, then
puts every policy's return, session length and click rate over seeds side by side with 95% intervals,
plus the paired (same seed, same users) difference of the agent and greedy, and says plainly whether
greedy has the best click rate and whether the agent gets longer sessions and a higher return
(`recgym.reports.tradeoff`). Writes results.json, report.md and tradeoff.png.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

from recgym.agents.studies.training_run import RunConfig, train_and_evaluate
from recgym.experiments.common import run_cli
from recgym.reports.plots.tradeoff import plot_tradeoff
from recgym.reports.tradeoff import markdown_report, summarize_tradeoff
from recgym.runs.checkpoint import atomic_write_text
from recgym.runs.config_record import config_record
from recgym.runs.folders import finish_run_dir, make_run_dir
from recgym.runs.processes import run_seeds
from recgym.world import world_name


@dataclass
class Args:
    """experiments.dqn over several seeds, summarised."""

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Seeds of the agent and the evaluation (the simulator stays the same)."""
    workers: int = 1
    """Seeds run in parallel processes (one torch thread each)."""
    run: RunConfig = field(default_factory=RunConfig)
    """The run of every seed (see experiments.dqn); its seed is each of --seeds."""


def main(args: Args) -> dict[str, Any]:
    start = time.perf_counter()
    name = world_name(args.run.world)
    run_dir = make_run_dir(args.run.out, name, "tradeoff", args.seeds[0])
    one_run = dataclasses.replace(args.run, progress=args.run.progress and args.workers <= 1)
    per_seed = run_seeds(train_and_evaluate, one_run, args.seeds, args.workers)
    results = {"env": name, "seeds": list(args.seeds)} | summarize_tradeoff(per_seed)
    results["dynamics"] = per_seed[0].get("dynamics")
    results["config"] = config_record(args)
    results["wall_seconds"] = time.perf_counter() - start
    atomic_write_text(run_dir / "report.md", markdown_report(results))
    plot_tradeoff(results["policies"], run_dir / "tradeoff.png", title=f"{name}, {len(args.seeds)} seeds")
    finish_run_dir(run_dir, results)
    print(markdown_report(results))
    print(f"wrote {run_dir}/report.md in {results['wall_seconds']:.0f} s")
    return results


if __name__ == "__main__":
    run_cli(main, Args)
