"""Every user model of the zoo on real logs, under both ranking protocols, with its calibration.

    python bench/model_zoo.py --paths ../shared/data/ml-100k ../shared/data/ml-latest-small \
        --out bench/results/model_zoo.json

Each (model, data) pair is fitted by `recgym.models.fit_run.run_fit` (what `experiments.fit_user_model`
runs) with the library's defaults and the same seed; a most-popular row ranks items by training count
on the same split. Rows: {"model", "data", "sampled": {"hr@10", "ndcg@10"}, "full": {...}, "auc",
"logloss", "ece", "epochs", "best_epoch", "fit_seconds", "seconds_per_epoch", "peak_rss_mb"}. Prints a
markdown table per dataset. Each fit runs in a fresh process, so its peak_rss_mb (`ru_maxrss`, loading
the log included) is its own.
"""

from __future__ import annotations

import multiprocessing
import resource
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
import tyro

from recgym.data.sources import MovieLensLogs, read_logs
from recgym.data.splits import leave_last_out
from recgym.models.fit_run import FitRun, run_fit
from recgym.models.fitted import UserModelConfig
from recgym.models.metrics import evaluate_ranking
from recgym.models.popularity import MostPopular
from recgym.models.train_config import TrainConfig
from recgym.models.zoo import MODEL_NAMES, default_architecture
from recgym.runs.checkpoint import atomic_write_json


@dataclass
class Args:
    """Model-zoo benchmark settings."""

    paths: tuple[str, ...] = ("../shared/data/ml-100k", "../shared/data/ml-latest-small")
    """MovieLens files or folders."""
    models: tuple[str, ...] = MODEL_NAMES
    """Models of the zoo to fit."""
    out: str = "bench/results/model_zoo.json"
    """JSON file for the rows (rewritten after every row, so an interrupted run keeps what it did)."""
    runs: str = "runs/model_zoo"
    """Folder for each fit's run folder (results.json, TensorBoard curves)."""
    seed: int = 0
    threads: int | None = 1
    """Torch CPU threads (1 keeps timings comparable with bench/fit_vs_recbole.py)."""


def popularity_row(path: str, seed: int) -> dict[str, Any]:
    """Most-popular on the same leave-last-out split, context = training plus validation rows."""
    log = read_logs(MovieLensLogs(path))
    split = leave_last_out(log)
    known = split.train.with_frame(pd.concat([split.train.frame, split.valid.frame]))
    metrics = evaluate_ranking(MostPopular(known), known, split.test, seed=seed)
    return {"model": "most-popular", "data": MovieLensLogs(path).label} | {
        key: metrics[key] for key in ("sampled", "full")
    }


def model_row(model: str, path: str, args: Args) -> dict[str, Any]:
    config = UserModelConfig(default_architecture(model), train=TrainConfig(seed=args.seed))
    run = FitRun(MovieLensLogs(path), config, out=args.runs, threads=args.threads)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        result = pool.submit(run_fit, run).result()  # a fresh process: the peak RSS is this fit's
    epochs = result["epoch_seconds"]
    return (
        {"model": model, "data": result["data"]}
        | result["metrics"]
        | {
            "epochs": result["epochs"],
            "best_epoch": result["best_epoch"],
            "fit_seconds": result["fit_seconds"],
            "seconds_per_epoch": sum(epochs) / len(epochs),
            "peak_rss_mb": result["peak_rss_mb"],
        }
    )


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| data | model | sampled HR@10 | sampled NDCG@10 | full HR@10 | full NDCG@10 | AUC | ECE | epochs"
        " | s/epoch | peak_rss_mb |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        extra = (
            f"{r['auc']:.3f} | {r['ece']:.3f} | {r['epochs']} | {r['seconds_per_epoch']:.1f} | "
            f"{r['peak_rss_mb']:.0f}"
            if "auc" in r
            else "- | - | - | - | -"
        )
        lines.append(
            f"| {r['data']} | {r['model']} | {r['sampled']['hr@10']:.3f} | {r['sampled']['ndcg@10']:.3f} | "
            f"{r['full']['hr@10']:.3f} | {r['full']['ndcg@10']:.3f} | {extra} |"
        )
    return "\n".join(lines)


def main(args: Args) -> list[dict[str, Any]]:
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    rows: list[dict[str, Any]] = []
    for path in args.paths:
        for model in args.models:
            rows.append(model_row(model, path, args))
            atomic_write_json(Path(args.out), {"rows": rows, "threads": torch.get_num_threads()})
        rows.append(popularity_row(path, args.seed))
    payload = {
        "rows": rows,
        "threads": torch.get_num_threads(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch": torch.__version__,
    }
    atomic_write_json(Path(args.out), payload)
    print(markdown(rows))
    return rows


if __name__ == "__main__":
    main(tyro.cli(Args))
