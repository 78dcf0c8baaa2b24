"""A comparison of agents and baselines over seeds, cut into cells that can run in parallel processes
and resume: an agent on one seed, or every baseline on one seed.

Each cell builds the same World (cached), trains its agent with a learning curve (the served policy on
a fixed user sample every `curve_every` steps) and evaluates it on seed s's users with the random
streams the baselines of seed s see: greedy by each user model of the zoo, popular and random. A
finished cell is a JSON file in `cells/`, so a rerun of the same settings skips it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import tyro

from recgym.agents.studies.training_run import RunConfig, initial_embeddings, train_agent
from recgym.agents.zoo import AGENTS, AgentNames
from recgym.baselines import GreedyPolicy
from recgym.cache_folder import cache_folder
from recgym.curves import LearningCurve
from recgym.evaluation import evaluate
from recgym.models.fitted import FittedUserModel, fit_user_model
from recgym.models.zoo import MODEL_NAMES, ModelName, default_architecture
from recgym.runs.checkpoint import atomic_write_json
from recgym.runs.config_checks import check_at_least_one, check_seeds
from recgym.runs.config_record import config_record
from recgym.world import World, build_world, world_name


class AgentOptions(dict[str, Any]):
    """Agents' hyper-parameters by name (`--agent-options.slateq.gradient-steps 2`); an agent it does not
    hold runs with its config's defaults."""


def agent_options_constructor() -> Callable[..., AgentOptions]:
    """How tyro builds `AgentOptions`: one keyword (a group of options) per agent registered when the
    command line is parsed."""
    names = {name.replace("-", "_"): name for name in AGENTS}

    def agent_options(**chosen: Any) -> AgentOptions:
        return AgentOptions({names[key]: config for key, config in chosen.items()})

    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [
        inspect.Parameter(key, keyword, default=AGENTS[name](), annotation=AGENTS[name])
        for key, name in names.items()
    ]
    agent_options.__signature__ = inspect.Signature(parameters, return_annotation=AgentOptions)  # type: ignore[attr-defined]
    agent_options.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": AgentOptions}
    return agent_options


@dataclass
class CompareConfig:
    """Compare RL agents with the supervised baselines over seeds, in one simulator."""

    agents: AgentNames = tuple(AGENTS)
    """Agents to train (each with its `--agent-options.<agent>.*` hyper-parameters)."""
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
    """Parent folder; the comparison goes to `{out}/{world}__k{slate size}__{settings hash}`."""
    agent_options: Annotated[AgentOptions, tyro.conf.arg(constructor_factory=agent_options_constructor)] = (
        field(default_factory=AgentOptions)
    )
    """Hyper-parameters of each agent."""
    run: RunConfig = field(default_factory=lambda: RunConfig(progress=False))
    """Logs, user model, simulator, budget and evaluation shared by every cell (see experiments.dqn);
    its agent is not used (the agents are --agents)."""

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ValueError("give at least one seed")
        for name in (*self.agents, *self.agent_options):
            AGENTS[name]  # an unknown name fails here, with the closest known one
        check_seeds(self, "seeds")
        check_at_least_one(self, "workers", "curve_every", "curve_users")
        if self.run.agent != RunConfig().agent:
            raise ValueError(
                "a comparison trains --agents, each with --agent-options.<agent>.*; drop run.agent:"
                f"{self.run.agent.name} (e.g. --agents {self.run.agent.name})"
            )

    def agent_config(self, name: str) -> Any:
        """The hyper-parameters of agent `name`."""
        return self.agent_options.get(name) or AGENTS[name]()


def settings_hash(args: CompareConfig) -> str:
    """Hash of the settings that decide every cell's result (not the seed, the output, progress bars,
    checkpoints, or which agents run: a rerun with more agents adds their cells to the same folder)."""
    unused = {"seed": 0, "out": "", "progress": False, "cache_dir": None, "checkpoint_every": 0}
    settings = config_record(dataclasses.replace(args.run, **unused))
    changed = {name: c for name, c in sorted(args.agent_options.items()) if c != AGENTS[name]()}
    settings["agent_options"] = {name: config_record(c) for name, c in changed.items()}  # defaults: none
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:10]


def comparison_dir(args: CompareConfig) -> Path:
    """The folder of this comparison's settings: `{out}/{world}__k{slate size}__{settings hash}`."""
    name = world_name(args.run.world)
    return Path(args.out) / f"{name}__k{args.run.choice.slate_size}__{settings_hash(args)}"


def cell_path(folder: Path, policy: str, seed: int) -> Path:
    return folder / "cells" / f"{policy}__seed{seed}.json"


@dataclass(frozen=True)
class Cell:
    """One unit of work: an agent (or the baselines, `agent=None`) on one seed."""

    args: CompareConfig
    folder: str
    seed: int
    agent: str | None


def baseline_names(args: CompareConfig) -> list[str]:
    return [f"greedy-{model}" for model in args.greedy_models] + ["popular", "random"]


def pending_cells(args: CompareConfig, folder: Path) -> list[Cell]:
    """Cells without a result file yet (a seed's baselines are one cell, done when all their files are)."""
    cells = []
    for seed in args.seeds:
        if not all(cell_path(folder, name, seed).exists() for name in baseline_names(args)):
            cells.append(Cell(args, str(folder), seed, None))
        for agent in args.agents:
            if not cell_path(folder, agent, seed).exists():
                cells.append(Cell(args, str(folder), seed, agent))
    return cells


def run_cell(cell: Cell) -> str:
    """Train and evaluate one agent, or evaluate the baselines, on one seed; write its cell file."""
    args, folder, start = cell.args, Path(cell.folder), time.perf_counter()
    run = dataclasses.replace(args.run, seed=cell.seed)
    world = comparison_world(args)
    popularity = world.popularity()
    if cell.agent is None:
        policies = world.baselines(run.device)
        del policies["greedy"]
        for model in args.greedy_models:
            policies[f"greedy-{model}"] = GreedyPolicy(fit_zoo_model(args, world, model).scorer(run.device))
        results = evaluate(world.simulator, policies, run.evaluation(), popularity)["policies"]
        for name, summary in results.items():
            write_cell(folder, name, cell.seed, {"kind": "baseline", "summary": summary, "curve": []})
        return f"baselines, seed {cell.seed}: {time.perf_counter() - start:.0f} s"
    name = cell.agent
    run = dataclasses.replace(run, agent=args.agent_config(name))
    curve_config = run.evaluation(args.curve_users, seed=run.seed + 10_000)
    curve = LearningCurve(world.simulator, curve_config, args.curve_every, popularity)
    train_dir = folder / "train" / f"{name}__seed{cell.seed}"
    policy = train_agent(run, world.simulator, initial_embeddings(run, world), train_dir, curve)
    curve.finish(run.total_timesteps, lambda: policy)
    train_seconds = time.perf_counter() - start
    summary = evaluate(world.simulator, {name: policy}, run.evaluation(), popularity)["policies"][name]
    content = {"kind": "agent", "summary": summary, "curve": curve.points, "train_seconds": train_seconds}
    write_cell(folder, name, cell.seed, content)
    return f"{name}, seed {cell.seed}: {summary['return_mean']:.3f} in {time.perf_counter() - start:.0f} s"


def write_cell(folder: Path, policy: str, seed: int, content: dict[str, Any]) -> None:
    atomic_write_json(cell_path(folder, policy, seed), {"policy": policy, "seed": seed, **content})


def comparison_world(args: CompareConfig) -> World:
    """The World every cell shares (built once, then loaded from the cache)."""
    run = args.run
    return build_world(run.world, cache_folder(run.cache_dir), run.device, run.progress)


def prepare_models(args: CompareConfig) -> None:
    """Build the World and fit every greedy baseline's model once before the cells start, so parallel
    cells share the cache."""
    world = comparison_world(args)
    for model in args.greedy_models:
        fit_zoo_model(args, world, model)


def fit_zoo_model(args: CompareConfig, world: World, model: ModelName) -> FittedUserModel:
    """User model `model` fitted on the World's log with the run's training settings (loaded when
    cached)."""
    run = args.run
    if model == run.user_model.model:
        return world.fitted
    config = dataclasses.replace(run.user_model, architecture=default_architecture(model))
    return fit_user_model(world.log, config, cache_folder(run.cache_dir), progress=run.progress)
