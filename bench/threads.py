"""Torch CPU threads for recgym's work: a SlateQ run and a NeuMF fit at 1 and N threads, alone and
beside one busy single-threaded process (another job on the same machine).

    python bench/threads.py --out bench/results/threads.json
    python bench/threads.py --threads 1 2 4 8 --competitors 0 1 3   # on a bigger machine

Each cell runs in a fresh process with `OMP_NUM_THREADS` equal to its thread count, so torch's and
OpenMP's pools agree; the competitors are `python -c "while True: pass"` processes started before it
and killed after it. The SlateQ run is the default run's agent on the default synthetic world at a
short budget (its user model fitted once beforehand into a cache the cells share, so they time
training and evaluation only); the fit is the default NeuMF on the same logs for a few epochs. Rows:
{"job", "threads", "competitors", "seconds"} (the SlateQ run also "train_seconds", "eval_seconds");
prints the table and each cell's time over the 1-thread cell's beside the same competitors. This
is what chose `recgym.experiments.common.DEFAULT_THREADS`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import tyro

from recgym.runs.checkpoint import atomic_write_json


@dataclass
class Args:
    """Threads benchmark settings."""

    out: str = "threads.json"
    """JSON file for the rows."""
    threads: tuple[int, ...] = (1, 2)
    """Torch thread counts to measure (this machine has os.cpu_count() cores)."""
    competitors: tuple[int, ...] = (0, 1)
    """Numbers of busy single-threaded processes running beside each cell."""
    timesteps: int = 20_000
    """Training steps of the SlateQ run."""
    eval_users: int = 500
    """Users of the SlateQ run's evaluation."""
    fit_epochs: int = 3
    """Epochs of the NeuMF fit (early stopping off)."""
    worker: str = ""
    """Internal: run one job ("run" or "fit") in this process and print its JSON row."""
    cache_dir: str = ""
    """Internal: the shared cache of the worker's run."""


def _run_job(args: Args) -> dict[str, float]:
    """One SlateQ run on the cached world: its training and evaluation seconds."""
    from recgym.agents.studies.training_run import RunConfig, train_and_evaluate

    with tempfile.TemporaryDirectory() as out:
        config = RunConfig(
            total_timesteps=args.timesteps,
            eval_users=args.eval_users,
            out=out,
            cache_dir=args.cache_dir,
            progress=False,
        )
        wall = train_and_evaluate(config)["wall_seconds"]
    return {
        "seconds": wall["total"],
        "train_seconds": wall["until_trained"],
        "eval_seconds": wall["total"] - wall["until_trained"],
    }


def _fit_job(args: Args) -> dict[str, float]:
    """One NeuMF fit of the default synthetic logs, uncached."""
    from recgym.data.sources import SyntheticLogs
    from recgym.models.fit_run import FitRun, run_fit
    from recgym.models.fitted import UserModelConfig
    from recgym.models.training import TrainConfig

    config = UserModelConfig(train=TrainConfig(epochs=args.fit_epochs, patience=args.fit_epochs))
    with tempfile.TemporaryDirectory() as out:
        results = run_fit(FitRun(SyntheticLogs(), config, out=out))
    return {"seconds": results["fit_seconds"]}


def _cell(job: str, threads: int, competitors: int, args: Args, cache: str) -> dict[str, float]:
    """job in a fresh process at `threads`, beside `competitors` busy processes."""
    env = os.environ | {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(competitors)]
    try:
        time.sleep(0.5 if busy else 0.0)
        command = [sys.executable, __file__, "--worker", job, "--cache-dir", cache]
        command += ["--timesteps", str(args.timesteps), "--eval-users", str(args.eval_users)]
        command += ["--fit-epochs", str(args.fit_epochs)]
        done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(args: Args) -> None:
    if args.worker:
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        row = _run_job(args) if args.worker == "run" else _fit_job(args)
        print(json.dumps(row))
        return
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        _cell("run", 1, 0, args, cache)  # fills the shared cache: logs, user model, dynamics
        for job in ("run", "fit"):
            for competitors in args.competitors:
                for threads in args.threads:
                    row = {"job": job, "threads": threads, "competitors": competitors}
                    row |= _cell(job, threads, competitors, args, cache)
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    base = {(row["job"], row["competitors"]): row["seconds"] for row in rows if row["threads"] == 1}
    print(f"\n{'job':<5} {'threads':>7} {'competitors':>11} {'seconds':>8} {'vs 1 thread':>11}")
    for row in rows:
        ratio = row["seconds"] / base[(row["job"], row["competitors"])]
        cells = f"{row['job']:<5} {row['threads']:>7} {row['competitors']:>11}"
        print(f"{cells} {row['seconds']:>8.1f} {ratio:>11.2f}")
    atomic_write_json(
        Path(args.out),
        {
            "rows": rows,
            "cpu_count": os.cpu_count(),
            "timesteps": args.timesteps,
            "fit_epochs": args.fit_epochs,
        },
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main(tyro.cli(Args))
