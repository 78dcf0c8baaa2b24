"""Fidelity report: how closely a log-fitted simulator reproduces held-out real sessions.

    python -m experiments.fidelity                                   # the synthetic default world
    python -m experiments.fidelity --data movielens --path ../shared/data/ml-100k

Fits the user model (cached) and learns the dynamics from the logs, keeping a random 20% of the
sessions out of every dynamics fit. Those held-out sessions' users are then simulated under the
logging behaviour (`recgym.fidelity`), once with the learned dynamics and once with the hand-set
rule, and compared with what really happened. On the synthetic world, whose behaviour is known, it
also reports each fitted component's error against the truth. Writes results.json, report.md and
PNG plots to the run folder.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recgym.checkpoint import atomic_write_json, atomic_write_text
from recgym.data import InteractionLog, LogError, load_movielens_genres
from recgym.data.synthetic import LoggingConfig, generate_logs
from recgym.experiments.common import (
    DataSource,
    TableColumns,
    cache_folder,
    env_name,
    logger_horizon,
    run_cli,
    run_logs,
    world_name,
)
from recgym.experiments.fidelity_plots import (
    plot_genres,
    plot_popularity,
    plot_reliability,
    plot_session_lengths,
)
from recgym.experiments.plugin import PluginArgs
from recgym.fidelity import click_calibration, compare_samples, real_sample, simulate_logging, truth_errors
from recgym.models.fitted import UserModelConfig, fit_user_model
from recgym.run_folders import make_run_dir
from recgym.simulators.dynamics import DynamicsConfig, DynamicsSimulator
from recgym.simulators.learned_dynamics import learn_dynamics
from recgym.simulators.registry import fitted_simulator


@dataclass
class Args(PluginArgs):
    """Compare a log-fitted simulator's sessions with held-out real ones."""

    data: DataSource = "synthetic"
    """Logs to fit the user model on: the built-in synthetic world, MovieLens files at --path, or any
    CSV or parquet table at --path with the columns named by --table.*."""
    path: str | None = None
    """MovieLens file or folder (u.data, ratings.dat, ratings.csv or a RecBole .inter), or the table."""
    table: TableColumns = field(default_factory=TableColumns)
    """Column names of a --data table file (user, item, rating or click, time)."""
    likes: bool = True
    """Ratings become likes and explicit non-likes, so a 'click' is a like (MovieLens has no clicks)."""
    horizon: int | None = None
    """Longest session compared (default: the synthetic logger's horizon, else 200 steps)."""
    seed: int = 0
    """Seed of the held-out split and of the simulated sessions."""
    out: str = "runs"
    """Folder that receives the run folder `{env}__fidelity__{seed}__{time}`."""
    cache_dir: str | None = None
    """Cache of fitted user models (default: $RECGYM_CACHE or ~/.cache/recgym)."""
    progress: bool = True
    """Show the user model's training progress."""
    synthetic: LoggingConfig = field(default_factory=LoggingConfig)
    """The synthetic world and how its logs are collected (used with --data synthetic)."""
    user_model: UserModelConfig = field(default_factory=UserModelConfig)
    """Which user model of the zoo (--user-model.model), its architecture and training."""
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    """Hand-set dynamics: the 'rule' simulator's, and the learned one's where logs cannot identify them."""


def main(args: Args) -> dict[str, Any]:
    start = time.perf_counter()
    log = run_logs(args)
    horizon = args.horizon or logger_horizon(args) or 200
    run_dir = make_run_dir(
        args.out, env_name(args.data, args.path, args.user_model.model, args.simulator), "fidelity", args.seed
    )
    fitted = fit_user_model(log, args.user_model, cache_folder(args.cache_dir), progress=args.progress)
    rule = fitted_simulator(fitted, args.dynamics)
    assert isinstance(rule, DynamicsSimulator)
    learned = learn_dynamics(rule, log, censor_length=logger_horizon(args), seed=args.seed)
    learned_simulator = rule.with_dynamics(learned.params)
    assert learned.sessions is not None
    held_out = learned.sessions.subset(learned.held_out_sessions)
    frequency = np.bincount(log.frame["item"].to_numpy(), minlength=log.n_items).astype(np.float64)
    simulators = {"learned": learned_simulator, "rule": rule}
    samples = {"real": real_sample(held_out, log.like_threshold, horizon)} | {
        name: simulate_logging(simulator, held_out, frequency, horizon, seed=args.seed)
        for name, simulator in simulators.items()
    }
    genres, genre_names = item_genres(args, log)
    calibration = {
        name: click_calibration(simulator, held_out, log.like_threshold, horizon)
        for name, simulator in simulators.items()
    }
    results: dict[str, Any] = {
        "data": world_name(args.data, args.path, args.simulator),
        "user_model": args.user_model.model,
        "horizon": horizon,
        "held_out_sessions": len(held_out.sessions),
        "sessions": {
            name: compare_samples(samples["real"], samples[name], log.n_items, genres) for name in simulators
        },
        "click_calibration": {name: scores for name, (_, _, scores) in calibration.items()},
        "dynamics": learned.report,
        "config": asdict(args),
    }
    if args.data == "synthetic" and not args.simulator:
        world = generate_logs(args.synthetic)[1]
        results["truth_errors"] = {
            name: truth_errors(
                simulator, world, held_out, log.like_threshold, horizon, *dense_to_raw_ids(log)
            )
            for name, simulator in simulators.items()
        }
    results["wall_seconds"] = time.perf_counter() - start
    plot_session_lengths(samples, horizon, run_dir / "session_lengths.png")
    plot_reliability({name: (p, y) for name, (p, y, _) in calibration.items()}, run_dir / "calibration.png")
    plot_popularity(samples, log.n_items, run_dir / "popularity.png")
    if genres is not None:
        plot_genres(samples, genres, genre_names, run_dir / "genres.png")
    atomic_write_json(run_dir / "results.json", results)
    atomic_write_text(run_dir / "report.md", markdown_report(results))
    print(markdown_report(results))
    print(f"wrote {run_dir}/report.md in {results['wall_seconds']:.0f} s")
    return results


def item_genres(args: Args, log: InteractionLog) -> tuple[np.ndarray | None, list[str]]:
    """Primary genre per item: the world's topics, or MovieLens genres when the files have them."""
    if args.data == "synthetic" and not args.simulator:
        world = generate_logs(args.synthetic)[1]
        topics = world.item_topics.cpu().numpy()
        names = [f"topic {k}" for k in range(int(topics.max()) + 1)]
        return topics[dense_to_raw_ids(log)[1]], names
    if args.simulator or args.path is None:
        return None, []
    try:
        genres = load_movielens_genres(Path(args.path), log)
    except LogError as error:
        print(f"no genre figures: {error}")
        return None, []
    return genres.primary, genres.names


def dense_to_raw_ids(log: InteractionLog) -> tuple[np.ndarray, np.ndarray]:
    """The original (here: the world's) user and item id of every dense id of the log."""
    users = log.raw_users(np.arange(log.n_users)).astype(np.int64)
    return users, log.raw_items(np.arange(log.n_items)).astype(np.int64)


def markdown_report(results: dict[str, Any]) -> str:
    """The report's tables: sessions, calibration, leave model, and errors against the truth."""
    sessions = results["sessions"]
    names = list(sessions)
    lines = [
        f"# Fidelity: {results['user_model']} simulator of {results['data']}",
        "",
        f"{results['held_out_sessions']} held-out sessions, compared up to {results['horizon']} steps; "
        "'learned' uses the dynamics learned from the other sessions, 'rule' the hand-set ones.",
        "",
        "| figure | real | " + " | ".join(names) + " |",
        "| --- | --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for key in sessions[names[0]]["real"]:
        cells = [f"{sessions[name]['simulated'][key]:.3f}" for name in names]
        lines.append(f"| {key} | {sessions[names[0]]['real'][key]:.3f} | " + " | ".join(cells) + " |")
    for key in ("ks_session_length", "genre_total_variation"):
        if key in sessions[names[0]]:
            lines.append(
                f"| {key} (to real) | | " + " | ".join(f"{sessions[n][key]:.3f}" for n in names) + " |"
            )
    lines += ["", "Click probability on the held-out logged steps (replayed):", ""]
    lines += _table(results["click_calibration"])
    leave = results["dynamics"]["leave"]["held_out"]
    lines += ["", "Leave model on held-out steps (learned hazard vs the hand rule):", ""]
    lines += _table(leave)
    if "truth_errors" in results:
        lines += ["", "Error against the true world (mean absolute error | correlation):", ""]
        components = list(results["truth_errors"][names[0]])
        lines.append("| simulator | " + " | ".join(components) + " |")
        lines.append("| --- | " + " | ".join("---" for _ in components) + " |")
        for name, errors in results["truth_errors"].items():
            cells = [f"{errors[c]['mae']:.3f} \\| {errors[c]['correlation']:.3f}" for c in components]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _table(rows: dict[str, dict[str, float]]) -> list[str]:
    columns = list(next(iter(rows.values())))
    lines = ["| | " + " | ".join(columns) + " |", "| --- | " + " | ".join("---" for _ in columns) + " |"]
    for name, values in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{values[c]:.3f}" for c in columns) + " |")
    return lines


if __name__ == "__main__":
    run_cli(main, Args)
