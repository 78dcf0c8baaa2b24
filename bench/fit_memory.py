"""Peak memory of fitting and evaluating a user model on a large sparse log, and where it goes.

    python bench/fit_memory.py                  # fit SASRec on 31,013 users x 23,715 items, 287k rows
    python bench/fit_memory.py --what evaluate --n-users 100000 --n-items 100000 --n-interactions 1000000

Why: a user reported 5.3 GB resident for `fit_user_model(log, UserModelConfig(SASRecConfig()))` on a
public log of that first shape. The log here is synthetic and seeded (bench/power_law_log.py: power-law
item popularity, about 9 interactions per user, no timestamps). `fit` runs `fit_user_model` (split,
train, calibrate, rank the test items under both protocols); `evaluate` builds an untrained model,
gives it the training and validation context and runs `evaluate_ranking` on the test items (both
protocols): what evaluation costs whatever the weights. A thread samples the resident set every few
milliseconds with the main thread's recgym stack, and the table says how far the high-water mark rose
in each (functions that hold the GIL for long stretches are sampled less often, so a rise may be
booked to the next stack sampled; `peak_rss_mb`, the kernel's `ru_maxrss`, is exact). Writes one JSON
row to `--out` and prints a table.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Literal

import pandas as pd
import torch
import tyro
from power_law_log import power_law_frame

from recgym.data.interactions import InteractionLog
from recgym.data.splits import leave_last_out
from recgym.models.fitted import UserModelConfig, fit_user_model
from recgym.models.metrics import evaluate_ranking
from recgym.models.presets import paper_preset
from recgym.models.train_config import TrainConfig
from recgym.models.zoo import ModelName, build_model, default_architecture
from recgym.runs.checkpoint import atomic_write_json


@dataclass
class Args:
    """Fit-memory benchmark settings."""

    what: Literal["fit", "evaluate"] = "fit"
    """`fit_user_model` end to end, or only `evaluate_ranking` of an untrained model."""
    model: ModelName = "sasrec"
    """Model of the zoo, with the library's default architecture (or the paper's, with --preset)."""
    preset: Literal["default", "paper"] = "default"
    """The library's defaults or the papers' settings (recgym.models.presets)."""
    n_users: int = 31_013
    n_items: int = 23_715
    n_interactions: int = 287_000
    min_per_user: int = 5
    """Least interactions of a user (5: a 5-core log)."""
    epochs: int = 2
    """Training epochs of `fit` (memory per epoch does not change; the default fit runs up to 100)."""
    threads: int = 1
    """Torch CPU threads."""
    seed: int = 0
    """Seed of the log and of the fit."""
    interval: float = 0.005
    """Seconds between samples of the resident set."""
    out: str = "bench/results/fit-memory.json"
    """JSON file for the row."""


def _rss_mb() -> float:
    """Resident set now, from /proc/self/statm (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _recgym_stack(frame: FrameType | None) -> str:
    """The recgym functions of a stack, outermost first, the entry points left out ('-' if none)."""
    names = []
    while frame is not None:
        path = frame.f_code.co_filename
        if f"{os.sep}recgym{os.sep}" in path:
            names.append(f"{Path(path).stem}.{frame.f_code.co_name}")
        frame = frame.f_back
    entry = {"fitted.fit_user_model", "fitted.train_user_model"}
    return " > ".join(name for name in reversed(names) if name not in entry) or "-"


class StackSampler:
    """How far the resident set's high-water mark rose while the main thread was in each recgym stack.

    Freed memory mostly stays with the process, so the running maximum is what a stack adds to the
    peak; the rises sum to the peak less the resident set at the start.
    """

    def __init__(self, interval: float):
        self.interval, self.rises, self.high = interval, {}, _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._main = threading.main_thread().ident

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = _rss_mb()
            if rss > self.high:
                where = _recgym_stack(sys._current_frames().get(self._main))
                self.rises[where] = self.rises.get(where, 0.0) + rss - self.high
                self.high = rss

    def __enter__(self) -> StackSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def make_log(args: Args) -> InteractionLog:
    frame = power_law_frame(
        args.n_users, args.n_items, args.n_interactions, min_per_user=args.min_per_user, seed=args.seed
    )
    return InteractionLog.from_frame(frame, feedback="click", name=f"power-law-{args.n_users}x{args.n_items}")


def user_model_config(args: Args) -> UserModelConfig:
    if args.preset == "paper":
        architecture, train = paper_preset(args.model)
    else:
        architecture, train = default_architecture(args.model), TrainConfig()
    train = dataclasses.replace(train, epochs=args.epochs, seed=args.seed)
    return UserModelConfig(architecture, train=train)


def run_fit(log: InteractionLog, args: Args) -> dict[str, Any]:
    fitted = fit_user_model(log, user_model_config(args), progress=False)
    history = fitted.fit_report["history"]
    return {
        "metrics": fitted.metrics,
        "epochs": len(history),
        "seconds_per_epoch": sum(row["train_seconds"] for row in history) / len(history),
    }


def run_evaluate(log: InteractionLog, args: Args) -> dict[str, Any]:
    split = leave_last_out(log)
    known = split.train.with_frame(pd.concat([split.train.frame, split.valid.frame]))
    config = user_model_config(args)
    torch.manual_seed(args.seed)
    model = build_model(args.model, config.architecture, log.n_users, log.n_items)
    model.set_context(known)
    return {"metrics": evaluate_ranking(model, known, split.test, seed=args.seed)}


def main(args: Args) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    log = make_log(args)
    before = _peak_mb()
    start = time.perf_counter()
    with StackSampler(args.interval) as sampler:
        result = run_fit(log, args) if args.what == "fit" else run_evaluate(log, args)
    row = {
        "settings": asdict(args),
        "n_users": log.n_users,
        "n_items": log.n_items,
        "n_interactions": len(log),
        "seconds": time.perf_counter() - start,
        "peak_rss_mb_before": before,
        "peak_rss_mb": _peak_mb(),
        "rise_by_stack_mb": dict(sorted(sampler.rises.items(), key=lambda kv: -kv[1])),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    } | result
    atomic_write_json(Path(args.out), row)
    print(
        f"{args.what} {args.model} ({args.preset}) on {log.n_users:,} users x {log.n_items:,} items, "
        f"{len(log):,} interactions: {row['seconds']:.1f} s, peak RSS {row['peak_rss_mb']:.0f} MB "
        f"({before:.0f} MB before)"
    )
    print("| recgym stack (innermost last) | rise of the resident high-water mark, MB |\n| --- | --- |")
    for where, mb in list(row["rise_by_stack_mb"].items())[:12]:
        print(f"| {where} | {mb:.0f} |")
    print("metrics:", row["metrics"])
    return row


if __name__ == "__main__":
    main(tyro.cli(Args))
