"""Fidelity report: how closely a log-fitted simulator reproduces held-out real sessions.

    python -m experiments.fidelity                                   # the synthetic default world
    python -m experiments.fidelity data:movielens --data.path ../shared/data/ml-100k

Fits the user model (cached) and learns the dynamics from the logs, keeping a random 20% of the
sessions out of every dynamics fit. Those held-out sessions' users are then simulated under the
logging behaviour (`recgym.fidelity`), once with the learned dynamics and once with the hand-set
rule, and compared with what really happened. On the synthetic world, whose behaviour is known, it
also reports each fitted component's error against the truth. Writes results.json, report.md and
PNG plots to the run folder.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recgym.cache_folder import cache_folder
from recgym.data.sources import SyntheticLogs, logged_horizon, true_simulator
from recgym.experiments.common import run_cli
from recgym.fidelity import click_calibration, compare_samples, real_sample, simulate_logging, truth_errors
from recgym.models.fitted import UserModelConfig, fit_user_model
from recgym.reports.fidelity import dense_to_raw_ids, item_genres, markdown_report
from recgym.reports.plots.fidelity import plot_fidelity
from recgym.runs.checkpoint import atomic_write_text
from recgym.runs.config_record import config_record
from recgym.runs.folders import finish_run_dir, make_run_dir
from recgym.simulators.dynamics import DynamicsConfig, DynamicsSimulator
from recgym.simulators.learned_dynamics import learn_dynamics
from recgym.simulators.registry import fitted_simulator
from recgym.world import DataSource, WorldConfig, read_world_logs, world_name


@dataclass
class Args:
    """Compare a log-fitted simulator's sessions with held-out real ones."""

    data: DataSource = field(default_factory=SyntheticLogs)
    """Logs to fit on (`data:movielens --data.path ml-100k`), or a plug-in simulator's."""
    likes: bool = True
    """Ratings become likes and explicit non-likes, so a 'click' is a like (MovieLens has no clicks)."""
    horizon: int | None = None
    """Longest session compared (default: the logger's horizon for synthetic or plug-in logs, else 200)."""
    seed: int = 0
    """Seed of the held-out split and of the simulated sessions."""
    out: str = "runs"
    """Folder that receives the run folder `{world}__fidelity__{seed}__{time}`."""
    cache_dir: str | None = None
    """Cache of logs and fitted user models (default: $RECGYM_CACHE or ~/.cache/recgym)."""
    progress: bool = True
    """Show the user model's training progress."""
    user_model: UserModelConfig = field(default_factory=UserModelConfig)
    """The user model of the zoo (`user-model.model:sasrec`), its training and split."""
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    """Hand-set dynamics: the 'rule' simulator's, and the learned one's where logs cannot identify them."""


def main(args: Args) -> dict[str, Any]:
    start = time.perf_counter()
    data = (
        dataclasses.replace(args.data, likes=True)
        if args.likes and hasattr(args.data, "likes")
        else args.data
    )
    world = WorldConfig(data, args.user_model)
    cache_dir = cache_folder(args.cache_dir)
    log = read_world_logs(world, cache_dir, progress=args.progress).log
    logged = logged_horizon(data)
    horizon = args.horizon or logged or 200
    run_dir = make_run_dir(args.out, world_name(world), "fidelity", args.seed)
    fitted = fit_user_model(log, args.user_model, cache_dir, progress=args.progress)
    rule = fitted_simulator(fitted, args.dynamics)
    assert isinstance(rule, DynamicsSimulator)
    learned = learn_dynamics(rule, log, censor_length=logged, seed=args.seed)
    assert learned.sessions is not None
    held_out = learned.sessions.subset(learned.held_out_sessions)
    frequency = np.bincount(log.frame["item"].to_numpy(), minlength=log.n_items).astype(np.float64)
    simulators = {"learned": rule.with_dynamics(learned.params), "rule": rule}
    samples = {"real": real_sample(held_out, log.like_threshold, horizon)} | {
        name: simulate_logging(simulator, held_out, frequency, horizon, seed=args.seed)
        for name, simulator in simulators.items()
    }
    genres, genre_names = item_genres(data, log)
    calibration = {
        name: click_calibration(simulator, held_out, log.like_threshold, horizon)
        for name, simulator in simulators.items()
    }
    results: dict[str, Any] = {
        "data": data.label,
        "user_model": args.user_model.model,
        "horizon": horizon,
        "held_out_sessions": len(held_out.sessions),
        "sessions": {
            name: compare_samples(samples["real"], samples[name], log.n_items, genres) for name in simulators
        },
        "click_calibration": {name: scores for name, (_, _, scores) in calibration.items()},
        "dynamics": learned.report,
        "config": config_record(args),
    }
    truth = true_simulator(data)
    if isinstance(truth, DynamicsSimulator):  # the true probabilities are known to compare against
        ids = dense_to_raw_ids(log)
        results["truth_errors"] = {
            name: truth_errors(simulator, truth, held_out, log.like_threshold, horizon, *ids)
            for name, simulator in simulators.items()
        }
    results["wall_seconds"] = time.perf_counter() - start
    plot_fidelity(run_dir, samples, calibration, horizon, log.n_items, genres, genre_names)
    atomic_write_text(run_dir / "report.md", markdown_report(results))
    finish_run_dir(run_dir, results)
    print(markdown_report(results))
    print(f"wrote {run_dir}/report.md in {results['wall_seconds']:.0f} s")
    return results


if __name__ == "__main__":
    run_cli(main, Args)
