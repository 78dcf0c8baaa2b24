"""Fit and evaluate one user model of the zoo on logs; write results.json.

    python -m experiments.fit_user_model --model sasrec --data movielens --path ../shared/data/ml-100k
    python -m experiments.fit_user_model --model neumf                 # the synthetic default logs
    python -m experiments.fit_user_model --model neumf --preset paper  # He et al. 2017's settings
    python -m experiments.fit_user_model --data table --path my_log.csv --table.user uid \
        --table.item iid --table.rating stars --table.time ts      # any CSV or parquet table
    python -m experiments.fit_user_model --user-model.split none       # fit on every interaction
    tensorboard --logdir runs                                          # curves under fit/

Ranking quality is HR@10 and NDCG@10 of each user's latest interaction under two protocols (against
99 sampled negatives; against every item the user has not interacted with); the click probability
the simulator uses as reward is judged by AUC, log-loss and expected calibration error on held-out
rows. Schema in docs/results.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import torch

from recgym.checkpoint import atomic_write_json
from recgym.data.synthetic import LoggingConfig
from recgym.experiments.common import (
    DataSource,
    TableColumns,
    env_name,
    run_cli,
    run_logs,
    world_name,
)
from recgym.experiments.plugin import PluginArgs
from recgym.models.fit_run import fit_and_report
from recgym.models.fitted import UserModelConfig
from recgym.models.presets import paper_preset, with_dim
from recgym.models.zoo import ModelName
from recgym.reporting import describe_user_model
from recgym.run_folders import make_run_dir


@dataclass
class Args(PluginArgs):
    """Fit a user model and report its ranking and calibration quality."""

    model: ModelName = "sasrec"
    """Which model of the zoo (architecture flags: --user-model.<model>.*)."""
    data: DataSource = "synthetic"
    """Logs to fit the user model on: the built-in synthetic world, MovieLens files at --path, or any
    CSV or parquet table at --path with the columns named by --table.*."""
    path: str | None = None
    """MovieLens file or folder (u.data, ratings.dat, ratings.csv or a RecBole .inter), or the table."""
    table: TableColumns = field(default_factory=TableColumns)
    """Column names of a --data table file (user, item, rating or click, time)."""
    likes: bool = False
    """Fit the user model on likes (a rating in the top quarter of the scale), lower ratings counting as
    items shown and not clicked, instead of treating every rating as an interaction."""
    out: str = "runs"
    """Folder that receives the run folder `{model}-{data}__fit__{seed}__{time}`."""
    epochs: int | None = None
    """Most epochs (overrides --user-model.train.epochs)."""
    preset: Literal["default", "paper"] = "default"
    """"paper": the published settings of NeuMF (He et al. 2017) or SASRec (Kang & McAuley 2018) for
    architecture and training (recgym.models.presets), before --epochs, --dim and --seed apply."""
    dim: int | None = None
    """Embedding size of the chosen model (overrides its architecture's size). NeuMF: GMF factors d and
    MLP layers (2d, 2d, d), said in a line when applied; set --user-model.neumf.* for other shapes."""
    seed: int = 0
    """Seed of initialisation, sampling and shuffling (overrides --user-model.train.seed)."""
    threads: int | None = None
    """Torch CPU threads (default: torch's choice)."""
    progress: bool = True
    """Show a progress bar per epoch."""
    synthetic: LoggingConfig = field(default_factory=LoggingConfig)
    """The synthetic world and how its logs are collected (used with --data synthetic)."""
    user_model: UserModelConfig = field(default_factory=UserModelConfig)
    """Architectures, training and calibration (--model picks the architecture)."""


def resolved_config(args: Args) -> UserModelConfig:
    """The user-model config with --model, --preset, --epochs, --dim and --seed applied."""
    config = args.user_model
    if args.preset == "paper":
        architecture, train_config = paper_preset(args.model)
        config = dataclasses.replace(config, train=train_config, **{args.model: architecture})
    train = dataclasses.replace(
        config.train, seed=args.seed, **({"epochs": args.epochs} if args.epochs is not None else {})
    )
    architecture = getattr(config, args.model)
    if args.dim is not None:
        architecture = with_dim(args.model, architecture, args.dim)
    return dataclasses.replace(config, model=args.model, train=train, **{args.model: architecture})


def main(args: Args) -> dict[str, Any]:
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    log = run_logs(args)
    config = resolved_config(args)
    world = world_name(args.data, args.path, args.simulator)
    run_dir = make_run_dir(
        args.out, env_name(args.data, args.path, args.model, args.simulator), "fit", args.seed
    )
    atomic_write_json(run_dir / "config.json", asdict(args) | {"user_model": asdict(config)})
    print(
        f"run folder: {run_dir}\nlogs: {log.name}, {log.n_users} users, {log.n_items} items, {len(log)} rows"
    )
    results = fit_and_report(log, config, run_dir, world, args.progress)
    _print_summary(results)
    print(f"wrote {run_dir}/results.json")
    return results


def _print_summary(results: dict[str, Any]) -> None:
    line = describe_user_model(results["model"], results["metrics"])
    print(f"{line} | {results['data']}, {results['epochs']} epochs, {results['fit_seconds']:.0f} s")


if __name__ == "__main__":
    run_cli(main, Args)
