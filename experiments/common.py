"""Pieces every experiment shares: reading the chosen logs and naming the run folder."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from recgym.checkpoint import CheckpointError, check_cache_dir
from recgym.data import InteractionLog, LogError
from recgym.data.interactions import Feedback
from recgym.data.sources import LogSource, MovieLensLogs, SyntheticLogs, TableLogs, file_label, read_logs
from recgym.data.synthetic import LoggingConfig
from recgym.experiments.plugin import plugin_label, plugin_logs, plugin_simulator
from recgym.models.fitted import FittedUserModel
from recgym.reporting import describe_dynamics
from recgym.simulators.dynamics import DynamicsConfig, DynamicsSimulator
from recgym.simulators.learned_dynamics import learn_dynamics
from recgym.simulators.registry import SimulatorError, default_cache_dir, fitted_simulator

DataSource = Literal["synthetic", "movielens", "table"]


@dataclass(frozen=True)
class TableColumns:
    """The columns of a `--data table` file (CSV or parquet, by suffix)."""

    user: str = "user_id"
    """Column of user ids (integers or any text)."""
    item: str = "item_id"
    """Column of item ids (integers or any text)."""
    rating: str | None = None
    """Column of ratings or clicks (0/1); none: every row is a click."""
    time: str | None = None
    """Column of times (integers such as Unix seconds, or ISO-8601 dates); none: the log is untimed, so
    its held-out items are drawn at random (see --user-model.split) and its dynamics are hand-set."""
    feedback: Feedback = "rating"
    """What the rating column holds: "rating" (a scale) or "click" (0/1, impressions kept as 0)."""
    sep: str = ","
    """Field separator of a CSV file."""


def log_source(
    data: DataSource,
    path: str | None,
    synthetic: LoggingConfig | None = None,
    likes: bool = False,
    table: TableColumns | None = None,
) -> LogSource:
    """What `--data` names: the built-in synthetic logs, MovieLens files (u.data, ratings.dat,
    ratings.csv, .inter) or any table at path; ValueError when a file is needed and path is missing."""
    if data == "synthetic":
        return SyntheticLogs(synthetic or LoggingConfig())
    if path is None:
        wanted = "MovieLens file or folder" if data == "movielens" else "CSV or parquet file"
        raise ValueError(f"--data {data} needs --path to a {wanted}")
    if data == "movielens":
        return MovieLensLogs(path, likes)
    return TableLogs(path, **asdict(table or TableColumns()), likes=likes)


def load_logs(
    data: DataSource,
    path: str | None,
    synthetic: LoggingConfig | None = None,
    likes: bool = False,
    table: TableColumns | None = None,
) -> InteractionLog:
    """The log `--data` names (`log_source`); with `likes`, ratings become likes and explicit non-likes
    (`InteractionLog.as_likes`)."""
    source = log_source(data, path, synthetic, likes, table)
    log = read_logs(source)
    return log.as_likes() if likes and isinstance(source, SyntheticLogs) else log


def run_logs(args: LogsArgs) -> InteractionLog:
    """The logs a run fits its user models on: collected from the plug-in simulator when
    `args.simulator` names one, else the `--data` logs."""
    if args.simulator:
        simulator = plugin_simulator(args.simulator, args.simulator_kwargs)
        return plugin_logs(simulator, args.synthetic, plugin_label(args.simulator))
    return load_logs(args.data, args.path, args.synthetic, args.likes, getattr(args, "table", None))


def world_name(data: DataSource, path: str | None, simulator: str | None = None) -> str:
    """Short name of the logs, e.g. 'synthetic', 'ml-100k' (the folder holding a MovieLens file), a
    table's file name without its suffix, or a plug-in simulator's class name."""
    if simulator:
        return plugin_label(simulator)
    if data == "synthetic" or path is None:
        return "synthetic"
    return file_label(path)


def env_name(data: DataSource, path: str | None, model: str = "neumf", simulator: str | None = None) -> str:
    """Short name of the simulated world, e.g. 'neumf-synthetic', 'sasrec-ml-100k', or a plug-in
    simulator's class name."""
    if simulator:
        return plugin_label(simulator)
    return f"{model}-{world_name(data, path)}"


INPUT_ERRORS = (LogError, CheckpointError, SimulatorError, FileNotFoundError)
"""What bad input (a file, a cache, a --simulator) raises: the command line says it in one line."""


def run_cli(main: Callable[[Any], Any], args_type: type, default: Any = None) -> None:
    """`main(tyro.cli(args_type))` that ends with `error: <message>` and exit status 2, not a
    traceback, when the input is bad (`INPUT_ERRORS`)."""
    import tyro

    args = tyro.cli(args_type, default=default)
    try:
        main(args)
    except INPUT_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


def cache_folder(cache_dir: str | None) -> Path:
    """Where fitted user models are cached: --cache-dir, else $RECGYM_CACHE or ~/.cache/recgym;
    ValueError naming the option or variable when it is a file (checked before anything is written)."""
    if cache_dir is None:
        return default_cache_dir()
    check_cache_dir(cache_dir, "--cache-dir", write=False)
    return Path(cache_dir)


class LogsArgs(Protocol):
    data: DataSource
    path: str | None
    likes: bool
    table: TableColumns
    synthetic: LoggingConfig
    simulator: str | None
    simulator_kwargs: str


def logger_horizon(args: LogsArgs) -> int | None:
    """Longest session the logger recorded, when it cut sessions (synthetic or plug-in logs' horizon)."""
    return args.synthetic.horizon if args.data == "synthetic" or args.simulator else None


def log_fitted_simulator(
    log: InteractionLog,
    fitted: FittedUserModel,
    dynamics: DynamicsConfig,
    learn: bool,
    reward: str,
    device: str,
    censor_length: int | None,
) -> tuple[DynamicsSimulator, dict[str, Any] | None]:
    """The fitted model's simulator with dynamics learned from log (`learn`) or as configured, and the
    learning report (None when not learned)."""
    simulator = fitted_simulator(fitted, dynamics, reward=reward, device=device)
    assert isinstance(simulator, DynamicsSimulator)
    if not learn:
        return simulator, None
    log.require_times(
        "its sessions, and so its dynamics, cannot be learned: name the time column (--table.time) or "
        "run with --no-learn-dynamics (the hand-set --dynamics)"
    )
    learned = learn_dynamics(simulator, log, censor_length=censor_length)
    print(describe_dynamics(learned.report))
    return simulator.with_dynamics(learned.params), learned.report
