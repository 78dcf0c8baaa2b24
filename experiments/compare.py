"""Every agent and every baseline, over several seeds, on the same simulated users: one comparison.

    python -m experiments.compare                                   # default world, 5 seeds
    python -m experiments.compare --run.choice.slate-size 5 --agents slateq topk-reinforce gpu-dqn
    python -m experiments.compare --run.data movielens --run.path ../shared/data/ml-100k --run.likes
    tensorboard --logdir runs/compare

Each (agent, seed) trains in the simulator `experiments.dqn` builds from the same settings (`--run.*`),
records a learning curve (its served policy evaluated on a fixed user sample every `--curve-every`
steps) and is evaluated on seed s's users with the same random streams as the baselines of seed s:
greedy by each user model of the zoo (each fitted on the same logs), popular and random. Every
finished cell is written to `cells/` at once, so a rerun with the same settings skips it (resume).
The summary (`experiments.compare_report`) and figures (`experiments.compare_plots`) follow.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recgym.baselines import GreedyPolicy, baseline_policies, log_popularity
from recgym.checkpoint import atomic_write_json
from recgym.curves import LearningCurve
from recgym.data import InteractionLog
from recgym.evaluation import evaluate
from recgym.experiments.checks import check_at_least_one, check_seeds
from recgym.experiments.common import cache_folder, env_name, run_cli, run_logs
from recgym.experiments.compare_plots import plot_comparison
from recgym.experiments.compare_report import summarize_comparison, write_comparison
from recgym.experiments.dqn import AgentName, Args, build_simulator, eval_config, train_agent
from recgym.experiments.dqn import initial_embeddings as agent_embeddings
from recgym.experiments.seeds import run_in_processes
from recgym.models.fitted import FittedUserModel, fit_user_model
from recgym.models.zoo import MODEL_NAMES, ModelName

ALL_AGENTS: tuple[AgentName, ...] = (
    "sb3-dqn",
    "gpu-dqn",
    "sb3-ppo",
    "sb3-a2c",
    "sb3-qrdqn",
    "slateq",
    "topk-reinforce",
)


@dataclass
class CompareArgs:
    """Compare RL agents with the supervised baselines over seeds, in one simulator."""

    agents: tuple[AgentName, ...] = ALL_AGENTS
    """Agents to train (each with its `--run.<agent>` hyper-parameters)."""
    greedy_models: tuple[ModelName, ...] = MODEL_NAMES
    """User models of the zoo whose greedy top-k is a baseline (each fitted on the same logs)."""
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Seeds: of each agent's training, and of the evaluated users and their random streams."""
    workers: int = 2
    """(agent, seed) cells trained at once, one process and torch thread each."""
    curve_every: int = 30_000
    """Training steps between the points of a learning curve."""
    curve_users: int = 300
    """Sessions per learning-curve point."""
    report_only: bool = False
    """Run nothing: summarise the cells already finished (each policy over the seeds it has)."""
    out: str = "runs/compare"
    """Parent folder; the comparison goes to `{out}/{env}__k{slate size}__{settings hash}`."""
    run: Args = field(default_factory=lambda: Args(progress=False))
    """Logs, user model, simulator, budget and hyper-parameters shared by every cell (see experiments.dqn)."""

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ValueError("give at least one seed")
        check_seeds(self, "seeds")
        check_at_least_one(self, "workers", "curve_every", "curve_users")


def settings_hash(run: Args) -> str:
    """Hash of the settings that decide every cell's result (not the seed, the output, progress bars or
    checkpoints)."""
    unused = {"seed": 0, "out": "", "progress": False, "cache_dir": None, "checkpoint_every": 0}
    settings = dataclasses.asdict(dataclasses.replace(run, **unused))
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:10]


def comparison_dir(args: CompareArgs) -> Path:
    run = args.run
    world = env_name(run.data, run.path, run.user_model.model, run.simulator)
    return Path(args.out) / f"{world}__k{run.choice.slate_size}__{settings_hash(run)}"


def cell_path(folder: Path, policy: str, seed: int) -> Path:
    return folder / "cells" / f"{policy}__seed{seed}.json"


@dataclass(frozen=True)
class Cell:
    """One unit of work: an agent (or the baselines, `agent=None`) on one seed."""

    args: CompareArgs
    folder: str
    seed: int
    agent: AgentName | None


def run_cell(cell: Cell) -> str:
    """Train and evaluate one agent, or evaluate the baselines, on one seed; write its cell file."""
    args, folder = cell.args, Path(cell.folder)
    run = dataclasses.replace(args.run, seed=cell.seed, agent=cell.agent or args.run.agent)
    start = time.perf_counter()
    log = run_logs(run)
    fitted, simulator, _ = build_simulator(run, log)
    popularity = log_popularity(log)
    if cell.agent is None:
        policies = baseline_policies(log, fitted, run.device)
        del policies["greedy"]
        for model in args.greedy_models:
            policies[f"greedy-{model}"] = GreedyPolicy(fit_zoo_model(run, log, model).scorer(run.device))
        served = policies
        results = evaluate(simulator, served, eval_config(run), popularity)["policies"]
        for name, summary in results.items():
            write_cell(folder, name, cell.seed, {"kind": "baseline", "summary": summary, "curve": []})
        return f"baselines, seed {cell.seed}: {time.perf_counter() - start:.0f} s"
    name = cell.agent
    curve_config = dataclasses.replace(eval_config(run, args.curve_users), seed=run.seed + 10_000)
    curve = LearningCurve(simulator, curve_config, args.curve_every, popularity)
    embeddings = agent_embeddings(fitted) if run.init_from_user_model else None
    policy = train_agent(run, simulator, embeddings, folder / "train" / f"{name}__seed{cell.seed}", curve)
    served = policy
    curve.finish(run.total_timesteps, lambda: served)
    train_seconds = time.perf_counter() - start
    summary = evaluate(simulator, {name: served}, eval_config(run), popularity)["policies"][name]
    write_cell(
        folder,
        name,
        cell.seed,
        {"kind": "agent", "summary": summary, "curve": curve.points, "train_seconds": train_seconds},
    )
    return f"{name}, seed {cell.seed}: {summary['return_mean']:.3f} in {time.perf_counter() - start:.0f} s"


def write_cell(folder: Path, policy: str, seed: int, content: dict[str, Any]) -> None:
    atomic_write_json(cell_path(folder, policy, seed), {"policy": policy, "seed": seed, **content})


def baseline_names(args: CompareArgs) -> list[str]:
    return [f"greedy-{model}" for model in args.greedy_models] + ["popular", "random"]


def pending_cells(args: CompareArgs, folder: Path) -> list[Cell]:
    """Cells without a result file yet (a seed's baselines are one cell, done when all their files are)."""
    cells = []
    for seed in args.seeds:
        if not all(cell_path(folder, name, seed).exists() for name in baseline_names(args)):
            cells.append(Cell(args, str(folder), seed, None))
        for agent in args.agents:
            if not cell_path(folder, agent, seed).exists():
                cells.append(Cell(args, str(folder), seed, agent))
    return cells


def main(args: CompareArgs) -> dict:
    folder = comparison_dir(args)
    folder.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        atomic_write_json(folder / "config.json", dataclasses.asdict(args))
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


def prepare_models(args: CompareArgs) -> None:
    """Fit (or load) every user model once before the cells start, so parallel cells share the cache."""
    run = args.run
    log = run_logs(run)
    for model in dict.fromkeys((run.user_model.model, *args.greedy_models)):
        fit_zoo_model(run, log, model)


def fit_zoo_model(run: Args, log: InteractionLog, model: ModelName) -> FittedUserModel:
    """User model `model` fitted on log with the run's training settings (loaded when cached)."""
    config = dataclasses.replace(run.user_model, model=model)
    return fit_user_model(log, config, cache_folder(run.cache_dir), progress=run.progress)


if __name__ == "__main__":
    run_cli(main, CompareArgs)
