"""Sim-to-real on a world whose truth is known: train in the simulator fitted on its logs, evaluate in
both the simulator and the truth, on the same users and random streams.

The truth is the synthetic world the logs were collected from, or a plug-in simulator (whose own logs
fit the simulator). Every policy (the agent, greedy on the fitted model, popular, random, and with
`train_in_truth` the agent trained in the truth for reference) gets a return in both worlds, and the
two rankings of the policies are compared by Kendall's tau.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scipy.stats import kendalltau

from recgym.agents.studies.training_run import RunConfig, initial_embeddings, train_agent
from recgym.cache_folder import cache_folder
from recgym.data.sources import true_simulator
from recgym.evaluation import evaluate
from recgym.runs.config_checks import check_at_least_one, check_seeds
from recgym.simulators.protocol import UserSimulator
from recgym.world import World, build_world


@dataclass
class SimToRealConfig:
    """Train in the fitted simulator, evaluate in both it and the true world, over several seeds."""

    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    """Seeds of the agents and the evaluation."""
    workers: int = 1
    """Seeds run in parallel processes (one torch thread each)."""
    train_in_truth: bool = True
    """Also train the agent in the true world, as the reference a perfect simulator would give."""
    run: RunConfig = field(default_factory=RunConfig)
    """The World (synthetic logs or a plug-in simulator), agent and evaluation (see experiments.dqn)."""

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ValueError("give at least one seed")
        check_seeds(self, "seeds")
        check_at_least_one(self, "workers")
        if not callable(getattr(self.run.data, "truth", None)):
            raise ValueError(
                f"sim-to-real needs a world whose truth is known; {self.run.data.label} has no `truth`: "
                "use run.data:synthetic, run.data:plugin or a source with a `truth(reward, device)`"
            )


def seed_runs(config: SimToRealConfig, out: Path) -> list[SimToRealConfig]:
    """One config per seed, writing under out, without progress bars from parallel workers."""
    progress = config.run.progress and config.workers <= 1
    return [
        dataclasses.replace(
            config, run=dataclasses.replace(config.run, seed=seed, out=str(out), progress=progress)
        )
        for seed in config.seeds
    ]


def one_seed(config: SimToRealConfig) -> dict[str, Any]:
    """Both evaluations of every policy for config.run.seed, and Kendall's tau of their rankings."""
    run = config.run
    world = build_world(run.world, cache_folder(run.cache_dir), run.device)
    truth = true_world(world, run)
    run_dir = Path(run.out) / f"seed_{run.seed}"
    initial = initial_embeddings(run, world)
    policies = {run.agent.name: train_agent(run, world.simulator, initial, run_dir / "train_sim")}
    policies |= world.baselines(run.device)
    if config.train_in_truth:
        trained = train_agent(run, truth, initial, run_dir / "train_truth")
        policies[f"{run.agent.name}-trained-in-truth"] = trained
    # single items, as this study has always evaluated (slates are experiments.dqn's)
    evaluation = dataclasses.replace(run.evaluation(), choice=None)
    in_sim = evaluate(world.simulator, policies, evaluation)["policies"]
    in_truth = evaluate(truth, policies, evaluation)["policies"]
    names = list(policies)
    sim_returns = [in_sim[name]["return_mean"] for name in names]
    true_returns = [in_truth[name]["return_mean"] for name in names]
    return {
        "seed": run.seed,
        "simulator": in_sim,
        "truth": in_truth,
        "kendall_tau": float(kendalltau(sim_returns, true_returns).statistic),
    }


def true_world(world: World, run: RunConfig) -> UserSimulator:
    """The truth behind world's logs: the plug-in simulator, or the synthetic world they were logged
    from; ValueError when the logs missed some of its users or items."""
    truth = true_simulator(run.data, run.reward, run.device)
    assert truth is not None  # SimToRealConfig checked it
    log = world.log
    if (log.n_users, log.n_items) != (truth.n_users, truth.n_items):
        raise ValueError(
            f"the logs saw {log.n_users} of {truth.n_users} users and {log.n_items} of {truth.n_items} items;"
            " sim-to-real needs all of them (log more sessions per user)"
        )
    return truth
