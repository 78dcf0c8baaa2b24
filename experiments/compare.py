"""Every agent and every baseline, over several seeds, on the same simulated users: one comparison.

    python -m experiments.compare                                   # default world, 5 seeds
    python -m experiments.compare --run.choice.slate-size 5 --agents slateq topk-reinforce gpu-dqn
    python -m experiments.compare run.data:movielens --run.data.path ../shared/data/ml-100k --run.data.likes
    python -m experiments.compare --agents slateq --agent-options.slateq.gradient-steps 2
    tensorboard --logdir runs/compare

Each (agent, seed) cell trains in the World the run settings (`--run.*`, as in experiments.dqn)
build, records a learning curve and is evaluated on seed s's users with the random streams of the
baselines of seed s (`recgym.agents.studies.comparison`). Finished cells are kept, so a rerun with the same
settings skips them. Then: intervals and tests against the best baseline, a table, CSV, TensorBoard
and figures.
"""

from __future__ import annotations

from recgym.agents.studies.comparison import (
    CompareConfig,
    comparison_dir,
    pending_cells,
    prepare_models,
    run_cell,
)
from recgym.experiments.common import run_cli
from recgym.reports.comparison import summarize_comparison, write_comparison
from recgym.reports.plots.comparison import plot_comparison
from recgym.runs.checkpoint import atomic_write_json
from recgym.runs.config_record import config_record
from recgym.runs.processes import run_in_processes


def main(args: CompareConfig) -> dict:
    folder = comparison_dir(args)
    folder.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        atomic_write_json(folder / "config.json", config_record(args))
    cells = pending_cells(args, folder)
    total = len(args.seeds) * (len(args.agents) + 1)
    print(f"comparison folder: {folder}\n{total - len(cells)} of {total} cells done")
    if not args.report_only:
        prepare_models(args)
        for message in run_in_processes(run_cell, cells, args.workers):
            print(message)
    summary = summarize_comparison(folder, args)
    write_comparison(folder, summary, args.run.total_timesteps)
    plot_comparison(folder, summary)
    print((folder / "results.md").read_text())
    return summary


if __name__ == "__main__":
    run_cli(main, CompareConfig)
