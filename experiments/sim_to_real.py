"""Sim-to-real on the ground-truth world: how far to trust what a log-fitted simulator says.

    python -m experiments.sim_to_real --workers 2
    python -m experiments.sim_to_real run.agent:slateq run.data:plugin --run.data.name my.module:MySim

The synthetic world's logs (or a plug-in simulator's) fit a simulator (user model plus learned
dynamics), the agent trains in that simulator, and every policy (the agent, greedy on the fitted
model, most popular, random, and the agent trained in the true world for reference) is evaluated in
both the simulator and the true world, on the same users and random streams
(`recgym.agents.studies.sim_to_real`). Per seed: each policy's return in both, the gap, and Kendall's tau
between the two rankings; across seeds, means with 95% intervals. Writes results.json, report.md and
sim_vs_real.png.
"""

from __future__ import annotations

import time
from typing import Any

from recgym.agents.studies.sim_to_real import SimToRealConfig, one_seed, seed_runs
from recgym.experiments.common import run_cli
from recgym.reports.plots.sim_to_real import plot_sim_vs_real
from recgym.reports.sim_to_real import markdown_report, summarize_sim_to_real
from recgym.runs.checkpoint import atomic_write_text
from recgym.runs.config_record import config_record
from recgym.runs.folders import finish_run_dir, make_run_dir
from recgym.runs.processes import map_in_processes
from recgym.world import world_name


def main(args: SimToRealConfig) -> dict[str, Any]:
    start = time.perf_counter()
    run_dir = make_run_dir(args.run.out, world_name(args.run.world), "sim_to_real", args.seeds[0])
    per_seed = map_in_processes(one_seed, seed_runs(args, run_dir), args.workers)
    results = {"seeds": list(args.seeds)} | summarize_sim_to_real(per_seed)
    results |= {"per_seed": per_seed, "config": config_record(args)}
    results["wall_seconds"] = time.perf_counter() - start
    atomic_write_text(run_dir / "report.md", markdown_report(results))
    plot_sim_vs_real(results["policies"], run_dir / "sim_vs_real.png")
    finish_run_dir(run_dir, results)
    print(markdown_report(results))
    print(f"wrote {run_dir}/report.md in {results['wall_seconds']:.0f} s")
    return results


if __name__ == "__main__":
    run_cli(main, SimToRealConfig)
