"""Fit and evaluate one user model of the zoo on logs; write results.json.

    python -m experiments.fit_user_model                                 # NeuMF on the synthetic logs
    python -m experiments.fit_user_model user-model.model:neumf --preset paper  # He et al. 2017's settings
    python -m experiments.fit_user_model data:movielens --data.path ../shared/data/ml-100k
    python -m experiments.fit_user_model data:table --data.path my_log.csv --data.user uid \
        --data.item iid --data.rating stars --data.time ts               # any CSV or parquet table
    python -m experiments.fit_user_model --user-model.split none         # fit on every interaction
    tensorboard --logdir runs                                            # curves under fit/
    python -m experiments.dqn                  # loads this fit from the cache: same logs, same config

Ranking quality is HR@10 and NDCG@10 of each user's latest interaction under two protocols (against
99 sampled negatives; against every item the user has not interacted with); the click probability
the simulator uses as reward is judged by AUC, log-loss and expected calibration error on held-out
rows (`recgym.models.fit_run`). Schema in docs/results.md.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from recgym.cache_folder import cache_folder
from recgym.data.sources import SyntheticLogs
from recgym.experiments.common import run_cli
from recgym.models.fit_run import fit_and_report
from recgym.models.fitted import UserModelConfig
from recgym.models.presets import paper_preset, with_dim
from recgym.reports.results import describe_user_model
from recgym.runs.checkpoint import atomic_write_json
from recgym.runs.config_record import config_record
from recgym.runs.folders import make_run_dir
from recgym.world import DataSource, WorldConfig, read_world_logs, world_name


@dataclass
class Args:
    """Fit one user model of the zoo on logs and report its ranking and click-probability quality."""

    data: DataSource = field(default_factory=SyntheticLogs)
    """Logs to fit on (`data:movielens --data.path ml-100k`, `data:table --data.path log.csv ...`)."""
    user_model: UserModelConfig = field(default_factory=UserModelConfig)
    """The model (`user-model.model:sasrec`), its architecture, training and split; NeuMF, as in every
    run, by default."""
    preset: Literal["default", "paper"] = "default"
    """"paper": the model's published architecture and training (recgym.models.presets), in place of
    --user-model's, before --epochs, --dim and --seed apply."""
    dim: int | None = None
    """Embedding size of the chosen model. NeuMF: GMF factors d and MLP layers (2d, 2d, d)."""
    epochs: int | None = None
    """Most training epochs (early stopping may end sooner)."""
    seed: int = 0
    """Seed of the split, initialisation and sampling (--user-model.train.seed)."""
    out: str = "runs"
    """Folder that receives the run folder `{model}-{data}__fit__{seed}__{time}`."""
    cache_dir: str | None = None
    """Cache the fit is saved in, where the runs (`experiments.dqn`, `compare`) load it instead of
    refitting; default $RECGYM_CACHE or ~/.cache/recgym."""
    progress: bool = True
    """Show progress bars (else a line per epoch)."""


def resolved_config(args: Args) -> UserModelConfig:
    """The user-model config with --preset, --epochs, --dim and --seed applied."""
    config, model = args.user_model, args.user_model.model
    if args.preset == "paper":
        architecture, train = paper_preset(model)
        config = dataclasses.replace(config, architecture=architecture, train=train)
    epochs = config.train.epochs if args.epochs is None else args.epochs
    train = dataclasses.replace(config.train, seed=args.seed, epochs=epochs)
    architecture = config.architecture if args.dim is None else with_dim(config.architecture, args.dim)
    return dataclasses.replace(config, architecture=architecture, train=train)


def main(args: Args) -> dict[str, Any]:
    config = resolved_config(args)
    world = WorldConfig(args.data, config)
    cache_dir = cache_folder(args.cache_dir)  # before anything is written
    log = read_world_logs(world, cache_dir, progress=args.progress).log
    run_dir = make_run_dir(args.out, world_name(world), "fit", args.seed)
    atomic_write_json(run_dir / "config.json", config_record(args) | {"user_model": config_record(config)})
    print(
        f"run folder: {run_dir}\nlogs: {log.name}, {log.n_users} users, {log.n_items} items, {len(log)} rows"
    )
    results = fit_and_report(log, config, run_dir, args.data.label, args.progress, cache_dir)
    line = describe_user_model(results["model"], results["metrics"])
    print(f"{line} | {results['data']}, {results['epochs']} epochs, {results['fit_seconds']:.0f} s")
    print(f"wrote {run_dir}/results.json; runs of these logs and this config load the fit from {cache_dir}")
    return results


if __name__ == "__main__":
    run_cli(main, Args)
