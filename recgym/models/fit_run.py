"""One user-model fit as a run: fitted with a trace, judged on held-out data, written to results.json.

`fit_and_report` is what `python -m experiments.fit_user_model` does once its log and run folder are
known; `run_fit` does it all from a `FitRun`, which names the logs by their source so that it can be
sent to a fresh process (the benchmarks fit there, so that each fit's peak memory is its own).
Schema of results.json: docs/results.md.
"""

from __future__ import annotations

import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from recgym.data.interactions import InteractionLog
from recgym.data.sources import LogSource, read_logs
from recgym.models.fit_trace import FitTrace
from recgym.models.fitted import UserModelConfig, fit_user_model
from recgym.runs.checkpoint import atomic_write_json
from recgym.runs.config_record import config_record
from recgym.runs.folders import finish_run_dir, make_run_dir

METRICS = ("split", "sampled", "full", "auc", "logloss", "ece")
"""The user model's held-out figures a fit reports."""


def fit_and_report(
    log: InteractionLog,
    config: UserModelConfig,
    run_dir: Path,
    data: str,
    progress: bool = False,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Fit config's model on log with its per-epoch trace in run_dir (TensorBoard curves under fit/,
    the best epoch's weights under best_epoch/), write run_dir/results.json and return it.

    :param cache_dir: the user-model cache the fit replaces its entry in, so that a run of the same
        logs and config loads this fit (None: nothing cached).
    """
    start = time.perf_counter()
    trace = FitTrace(run_dir / "fit", lines=not progress)
    fitted = fit_user_model(
        log,
        config,
        cache_dir,
        progress=progress,
        on_epoch=trace,
        checkpoint_dir=run_dir / "best_epoch",
        refit=True,
    )
    trace.finish(fitted.fit_report["history"])
    history = fitted.fit_report["history"]
    results = {
        "model": config.model,
        "data": data,
        "metrics": {key: fitted.metrics.get(key) for key in METRICS},
        "fit_seconds": time.perf_counter() - start,
        "epochs": fitted.fit_report["epochs"],
        "best_epoch": fitted.fit_report["best_epoch"],
        "epoch_seconds": [row["train_seconds"] for row in history],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n_users": log.n_users,
        "n_items": log.n_items,
        "n_rows": len(log),
        "threads": torch.get_num_threads(),
        "history": history,
    }
    finish_run_dir(run_dir, results)
    return results


@dataclass(frozen=True)
class FitRun:
    """Everything one fit run needs, small enough to send to another process."""

    source: LogSource
    """The logs (synthetic, MovieLens, any table)."""
    config: UserModelConfig
    """The model, its architecture, training and split (its seed: `config.train.seed`)."""
    out: str = "runs"
    """Parent of the run folder `{model}-{data}__fit__{seed}__{time}`."""
    threads: int | None = None
    """Torch CPU threads (None: torch's choice)."""


def run_fit(run: FitRun) -> dict[str, Any]:
    """Read run's logs, fit and report in a new run folder; returns the results (`fit_and_report`)."""
    if run.threads is not None:
        torch.set_num_threads(run.threads)
    log = read_logs(run.source)
    data = run.source.label
    run_dir = make_run_dir(run.out, f"{run.config.model}-{data}", "fit", run.config.train.seed)
    atomic_write_json(
        run_dir / "config.json", {"source": config_record(run.source), "user_model": asdict(run.config)}
    )
    return fit_and_report(log, run.config, run_dir, data)
