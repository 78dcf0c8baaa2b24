"""Faults a run must survive or refuse by name, end to end on a tiny world: kills and resumes, damaged
checkpoints and run records, inputs that changed, damaged or unwritable caches.

    python bench/faults.py            # every case in-process, about half a minute on one core
    python bench/faults.py --kill     # also SIGKILL a real `python -m experiments.dqn` mid-training

Each case runs `experiments.dqn` (SB3's DQN, 600 steps on a 30-user world) into a fresh folder, breaks
something the way a machine or a user does, runs again and compares what happened with what must:
the results of the run that was never disturbed, or an error or warning naming the problem. Prints a
table (case, expected, observed, ok) and writes `bench/results/faults.json`; exits 1 if a case fails.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tyro
from stable_baselines3 import DQN

from recgym.agents.sb3.dqn import DQNConfig
from recgym.agents.studies.training_run import RunConfig
from recgym.agents.studies.training_run import train_and_evaluate as run
from recgym.data.sources import MovieLensLogs, SyntheticLogs
from recgym.data.synthetic import LoggingConfig
from recgym.models.fitted import UserModelConfig
from recgym.models.training import TrainConfig
from recgym.runs.checkpoint import atomic_write_json
from recgym.simulators.world import GroundTruthConfig
from recgym.world import HandSetDynamics

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Args:
    """Fault-injection settings."""

    kill: bool = False
    """Also start `python -m experiments.dqn` as a process, SIGKILL it after its first checkpoint and
    resume it (adds about 20 s)."""
    out: str = "bench/results/faults.json"
    """Where the table goes as JSON."""


@dataclass(frozen=True)
class Outcome:
    case: str
    expected: str
    observed: str
    ok: bool


def tiny_run(folder: Path, cache: Path | None = None) -> RunConfig:
    """A 600-step SB3 DQN run on a 30-user world, checkpointed every 200 steps, in folder (its user
    models cached in cache, else in a cache of its own)."""
    return RunConfig(
        total_timesteps=600,
        eval_users=30,
        horizon=10,
        history_len=4,
        out=str(folder / "runs"),
        cache_dir=str(cache or folder / "cache"),
        progress=False,
        checkpoint_every=200,
        data=SyntheticLogs(
            LoggingConfig(
                world=GroundTruthConfig(n_users=30, n_items=200, n_topics=3, dim=4),
                sessions_per_user=6,
                horizon=10,
            )
        ),
        user_model=UserModelConfig(train=TrainConfig(epochs=2)),
        agent=DQNConfig(learning_starts=96, batch_size=32, buffer_size=1_000, target_update_interval=10),
    )


class Killed(BaseException):
    """Stands for a killed process: raised mid-training, caught by nothing in recgym."""


def killed_at_update(args: RunConfig, update: int = 20) -> None:
    """Run args, stopping it as a kill would at DQN's `update`-th gradient step."""
    real, calls = DQN.train, []

    def train(self, *a, **k):
        calls.append(1)
        if len(calls) == update:
            raise Killed()
        return real(self, *a, **k)

    DQN.train = train  # type: ignore[method-assign]
    try:
        run(args)
    except Killed:
        return
    finally:
        DQN.train = real  # type: ignore[method-assign]
    raise AssertionError("the run ended before it could be killed")


def attempt(action: Callable[[], Any]) -> tuple[Any, str, list[str]]:
    """(result or None, error as 'Type: message' or '', warning messages) of action()."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, error = action(), ""
        except Exception as exception:  # the bench records whatever a case raises
            result, error = None, f"{type(exception).__name__}: {exception}"
    return result, error, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def run_dir(args: RunConfig) -> Path:
    (folder,) = Path(args.out).iterdir()
    return folder


class Cases:
    """The cases, each in a folder of its own, compared with one undisturbed run."""

    def __init__(self, root: Path):
        self.root = root
        self.cache = root / "cache"  # shared by the cases that are not about the cache
        self.reference = run(replace(tiny_run(root / "reference", self.cache), checkpoint_every=0))[
            "policies"
        ]

    def clip(self, text: str, n: int = 100) -> str:
        """text on one line, paths under the temporary root shortened to their last part, cut to n
        characters."""
        text = re.sub(re.escape(str(self.root)) + r"(/[^\s/:,;()]+)*/", ".../", " ".join(text.split()))
        return text if len(text) <= n else text[: n - 3] + "..."

    def folder(self, name: str) -> Path:
        return self.root / name.replace(" ", "-")

    def same_as_reference(self, results: Any) -> bool:
        return results is not None and results["policies"] == self.reference

    def killed_and_resumed(self) -> Outcome:
        args = tiny_run(self.folder("kill"), self.cache)
        killed_at_update(args)
        results, error, _ = attempt(lambda: run(replace(args, resume=True)))
        ok = self.same_as_reference(results)
        observed = "results equal" if ok else error or "results differ"
        return Outcome("killed mid-training, --resume", "the undisturbed run's results", observed, ok)

    def data_changed(self) -> Outcome:
        folder = self.folder("data")
        ratings = write_ratings(folder / "ml")
        args = replace(
            tiny_run(folder), data=MovieLensLogs(str(ratings), likes=True), dynamics=HandSetDynamics()
        )
        killed_at_update(args)
        write_ratings(folder / "ml", changed=True)  # the same users and items, a third of the ratings
        _, error, _ = attempt(lambda: run(replace(args, resume=True)))
        ok = "data sha256" in error and "changed" in error
        return Outcome("ratings.csv changed, then --resume", "refused, naming the data", self.clip(error), ok)

    def killed_during_fit(self) -> Outcome:
        import recgym.models.fitted as fitted

        args, real = tiny_run(self.folder("fit")), fitted.train_user_model

        def killed(*a, **k):
            raise Killed()

        fitted.train_user_model = killed  # type: ignore[assignment]
        try:
            run(args)
        except Killed:
            pass
        finally:
            fitted.train_user_model = real  # type: ignore[assignment]
        fits: list[int] = []
        fitted.train_user_model = lambda *a, **k: fits.append(1) or real(*a, **k)  # type: ignore[assignment]
        try:
            _, error, _ = attempt(lambda: run(replace(args, resume=True)))
        finally:
            fitted.train_user_model = real  # type: ignore[assignment]
        ok = "without --resume" in error and not fits
        observed = self.clip(error) + ("" if not fits else " (after refitting)")
        return Outcome("killed during the user-model fit, --resume", "refused before fitting", observed, ok)

    def damaged_latest_checkpoint(self) -> Outcome:
        args = replace(tiny_run(self.folder("damaged-checkpoint"), self.cache), checkpoint_every=100)
        killed_at_update(args, update=25)
        checkpoints = run_dir(args) / "checkpoints"
        latest = checkpoints / (checkpoints / "LATEST").read_text().strip()
        weights = latest / "weights.pt"
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
        results, error, caught = attempt(lambda: run(replace(args, resume=True)))
        fell_back = any("falling back" in message or latest.name in message for message in caught)
        ok = self.same_as_reference(results) and fell_back
        observed = ("warned, results equal" if ok else error or "no warning or results differ") + (
            f" ({self.clip(caught[0], 60)})" if caught else ""
        )
        return Outcome(
            "latest checkpoint truncated, the one before whole", "warns, resumes from it", observed, ok
        )

    def moved_run(self) -> Outcome:
        folder = self.folder("moved")
        args = replace(tiny_run(folder, self.cache), out=str((folder / "runs").resolve()))
        killed_at_update(args)
        (folder / "runs").rename(folder / "elsewhere")
        results, error, _ = attempt(
            lambda: run(replace(args, out=str(folder / "elsewhere") + "/", resume=True))
        )
        ok = self.same_as_reference(results)
        return Outcome(
            "run folder moved, --out spelled otherwise",
            "resumes where it is",
            "results equal" if ok else self.clip(error),
            ok,
        )

    def damaged_config(self) -> Outcome:
        args = tiny_run(self.folder("config"), self.cache)
        killed_at_update(args)
        (run_dir(args) / "config.json").write_bytes(b'{"seed": 0, "tot')
        _, error, _ = attempt(lambda: run(replace(args, resume=True)))
        ok = "config.json" in error and "damaged" in error
        return Outcome(
            "config.json cut short, then --resume", "refused, naming config.json", self.clip(error), ok
        )

    def damaged_cache(self, name: str, damage: Callable[[Path], None]) -> Outcome:
        folder = self.folder(f"cache-{name}")
        args = replace(tiny_run(folder), checkpoint_every=0)
        run(args)
        (entry,) = (folder / "cache").glob("neumf-*")  # the fitted model (logs and dynamics beside it)
        damage(entry)
        results, error, caught = attempt(lambda: run(replace(args, out=str(folder / "again"))))
        ok = self.same_as_reference(results) and any("refitting" in message for message in caught)
        observed = (
            (f"warned and refitted: {self.clip(caught[0], 60)}" if ok else error or "no warning")
            if caught or error
            else "no warning"
        )
        return Outcome(f"cached model: {name}", "warns, refits, same results", observed, ok)

    def cache_is_a_file(self) -> Outcome:
        folder = self.folder("cache-file")
        folder.mkdir(parents=True)
        (folder / "cache").write_text("not a folder")
        import recgym.models.fitted as fitted

        fits: list[int] = []
        real = fitted.train_user_model
        fitted.train_user_model = lambda *a, **k: fits.append(1) or real(*a, **k)  # type: ignore[assignment]
        try:
            _, error, _ = attempt(lambda: run(replace(tiny_run(folder), checkpoint_every=0)))
        finally:
            fitted.train_user_model = real  # type: ignore[assignment]
        ok = "cache" in error and str(folder / "cache") in error and not fits
        return Outcome(
            "cache path is a regular file", "refused before fitting, naming it", self.clip(error), ok
        )

    def cache_full(self) -> Outcome:
        import recgym.runs.checkpoint as checkpoint

        folder, real = self.folder("cache-full"), checkpoint.atomic_write_bytes

        def full(path, data):
            if Path(folder / "cache") in Path(path).parents:
                raise OSError(errno.ENOSPC, "No space left on device (simulated)", str(path))
            real(path, data)

        checkpoint.atomic_write_bytes = full  # type: ignore[assignment]
        try:
            results, error, caught = attempt(lambda: run(replace(tiny_run(folder), checkpoint_every=0)))
        finally:
            checkpoint.atomic_write_bytes = real  # type: ignore[assignment]
        leftovers = list((folder / "cache").glob("*")) if (folder / "cache").exists() else []
        ok = results is not None and bool(caught) and not leftovers
        observed = (f"warned, ran on: {self.clip(caught[0], 60)}" if ok else error or "no warning") + (
            f"; {len(leftovers)} partial entries left" if leftovers else ""
        )
        return Outcome(
            "cache disk full (ENOSPC on every write)", "warns once, runs without caching", observed, ok
        )

    def process_killed(self) -> Outcome:
        folder = self.folder("sigkill")
        args = tiny_run(folder)
        command = [sys.executable, "-m", "experiments.dqn", *cli_flags(replace(args, total_timesteps=4000))]
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list((folder / "runs").glob("*/checkpoints/LATEST")):
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait()
        resumed = subprocess.run([*command, "--resume"], cwd=ROOT, capture_output=True, text=True)
        whole = replace(args, total_timesteps=4000, out=str(folder / "whole"), checkpoint_every=0)
        subprocess.run([sys.executable, "-m", "experiments.dqn", *cli_flags(whole)], cwd=ROOT, check=True)
        read = [
            json.loads(next(Path(out).glob("*/results.json")).read_text())["policies"]
            for out in (args.out, whole.out)
        ]
        ok = resumed.returncode == 0 and read[0] == read[1]
        return Outcome(
            "SIGKILL of a real process after its first checkpoint",
            "resumes to the undisturbed results",
            "results equal" if ok else self.clip(resumed.stderr[-200:]),
            ok,
        )


def cli_flags(args: RunConfig) -> list[str]:
    """The command-line flags that rebuild args (the settings tiny_run changes)."""
    logging, dqn = args.data.logging, args.agent
    world = logging.world
    return [
        f"agent:{dqn.name}",
        f"--total-timesteps={args.total_timesteps}",
        f"--eval-users={args.eval_users}",
        f"--horizon={args.horizon}",
        f"--history-len={args.history_len}",
        f"--out={args.out}",
        f"--cache-dir={args.cache_dir}",
        "--no-progress",
        f"--checkpoint-every={args.checkpoint_every}",
        f"--data.logging.world.n-users={world.n_users}",
        f"--data.logging.world.n-items={world.n_items}",
        f"--data.logging.world.n-topics={world.n_topics}",
        f"--data.logging.world.dim={world.dim}",
        f"--data.logging.sessions-per-user={logging.sessions_per_user}",
        f"--data.logging.horizon={logging.horizon}",
        f"--user-model.train.epochs={args.user_model.train.epochs}",
        f"--agent.learning-starts={dqn.learning_starts}",
        f"--agent.batch-size={dqn.batch_size}",
        f"--agent.buffer-size={dqn.buffer_size}",
        f"--agent.target-update-interval={dqn.target_update_interval}",
    ]


def write_ratings(folder: Path, changed: bool = False) -> Path:
    """A MovieLens ratings.csv of 30 users and 40 items; `changed` flips a third of the ratings."""
    rng = np.random.default_rng(0)
    users, items = np.meshgrid(np.arange(1, 31), np.arange(1, 41), indexing="ij")
    keep = rng.random(users.shape) < 0.5
    ratings = rng.integers(1, 6, keep.sum()).astype(float)
    if changed:
        flip = np.random.default_rng(1).random(len(ratings)) < 1 / 3
        ratings[flip] = 6.0 - ratings[flip]
    frame = pd.DataFrame(
        {
            "userId": users[keep],
            "movieId": items[keep],
            "rating": ratings,
            "timestamp": 1_000_000 + 60 * np.arange(keep.sum()),
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / "ratings.csv", index=False)
    return folder / "ratings.csv"


def truncate_weights(entry: Path) -> None:
    weights = entry / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:100])


def non_utf8_meta(entry: Path) -> None:
    meta = entry / "meta.json"
    meta.write_bytes(meta.read_bytes().replace(b'"metrics"', b'"m\xffetrics"', 1))


def field_missing(entry: Path) -> None:
    meta = json.loads((entry / "meta.json").read_text())
    meta["calibration"].pop("rating_range")
    atomic_write_json(entry / "meta.json", meta)


def main(args: Args) -> list[Outcome]:
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        cases = Cases(Path(tmp))
        outcomes = [
            cases.killed_and_resumed(),
            cases.data_changed(),
            cases.killed_during_fit(),
            cases.damaged_latest_checkpoint(),
            cases.moved_run(),
            cases.damaged_config(),
            cases.damaged_cache("weights.pt truncated", truncate_weights),
            cases.damaged_cache("non-UTF-8 byte in meta.json", non_utf8_meta),
            cases.damaged_cache("a field missing from meta.json", field_missing),
            cases.cache_is_a_file(),
            cases.cache_full(),
        ]
        if args.kill:
            outcomes.append(cases.process_killed())
    print("| case | expected | observed | ok |\n| --- | --- | --- | --- |")
    for outcome in outcomes:
        print(
            f"| {outcome.case} | {outcome.expected} | {outcome.observed} | {'yes' if outcome.ok else 'NO'} |"
        )
    atomic_write_json(Path(args.out), [vars(outcome) for outcome in outcomes])
    return outcomes


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    outcomes = main(tyro.cli(Args))
    sys.exit(0 if all(outcome.ok for outcome in outcomes) else 1)
