"""What every experiment's command line shares: tyro with typed choices, `--import` of the user's own
modules (whose registrations become choices), `--threads`, and bad input said in one line."""

from __future__ import annotations

import inspect
import os
import sys
from collections.abc import Callable
from typing import Any

from recgym.data import LogError
from recgym.runs.checkpoint import CheckpointError
from recgym.simulators.registry import SimulatorError

INPUT_ERRORS = (LogError, CheckpointError, SimulatorError, FileNotFoundError)
"""What bad input (a file, a cache, a simulator) raises: the command line says it in one line."""

DEFAULT_THREADS = 1
"""Torch CPU threads of a command given neither --threads nor OMP_NUM_THREADS. recgym's networks and
batches are small: a second thread gains little alone and, beside one other busy process, costs many
times over (bench/threads.py, docs/BENCHMARKS.md#threads)."""

SHARED_OPTIONS = (
    "Every command also takes --import MODULE (import your module first, so that the agents and data "
    "sources it registers are choices) and --threads N (torch CPU threads; default $OMP_NUM_THREADS, "
    f"else {DEFAULT_THREADS})."
)


def parse(args_type: type, argv: list[str], default: Any = None) -> Any:
    """argv as an `args_type`: typed choices (`agent:sb3-ppo`) and options in any order, after importing
    the modules named by `--import` (so that what they register is a choice); tyro's message and exit
    status 2 if bad."""
    import tyro

    argv = import_plugins(argv)
    check_choices(args_type, argv)
    description = f"{inspect.getdoc(args_type) or ''}\n\n{SHARED_OPTIONS}"
    return tyro.cli(
        args_type,
        args=argv,
        default=default,
        description=description,
        config=(tyro.conf.CascadeSubcommandArgs,),
    )


def run_cli(main: Callable[[Any], Any], args_type: type, default: Any = None) -> None:
    """`main(parse(args_type, argv))` at the `--threads` asked for, ending with `error: <message>` and
    exit status 2, not a traceback, when the input is bad (`INPUT_ERRORS`)."""
    threads, argv = take_threads(sys.argv[1:])
    args = parse(args_type, argv, default)
    import torch

    torch.set_num_threads(threads)
    try:
        main(args)
    except INPUT_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


def import_plugins(argv: list[str]) -> list[str]:
    """argv without its `--import MODULE` options, each module imported first (its `register_agent`,
    `register_source` and `register_simulator` calls run); exit status 2 naming a module that fails."""
    import importlib

    rest: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token != "--import" and not token.startswith("--import="):
            rest.append(token)
            continue
        module = token.partition("=")[2] if "=" in token else next(tokens, "")
        if not module:
            _fail("--import needs a module name, e.g. --import my_agents")
        try:
            importlib.import_module(module)
        except Exception as error:  # the user's module: any failure is theirs to see in one line
            _fail(f"--import {module}: {type(error).__name__}: {error}")
    return rest


def take_threads(argv: list[str]) -> tuple[int, list[str]]:
    """The torch thread count asked for (`--threads N`; else $OMP_NUM_THREADS; else
    `DEFAULT_THREADS`) and argv without the option; exit status 2 for a count that is no positive
    integer."""
    rest: list[str] = []
    asked: tuple[str, str] | None = None
    tokens = iter(argv)
    for token in tokens:
        if token == "--threads" or token.startswith("--threads="):
            value = token.partition("=")[2] if "=" in token else next(tokens, "")
            asked = ("--threads", value)
        else:
            rest.append(token)
    if asked is None and os.environ.get("OMP_NUM_THREADS"):
        asked = ("OMP_NUM_THREADS", os.environ["OMP_NUM_THREADS"])
    if asked is None:
        return DEFAULT_THREADS, rest
    name, value = asked
    if not value.isdigit() or int(value) < 1:
        _fail(f"{name} must be a positive whole number of threads, got {value!r}")
    return int(value), rest


def check_choices(args_type: type, argv: list[str]) -> None:
    """Exit status 2 with the closest known choice for a mistyped one (`agent:sb3-ppp`)."""
    import difflib

    from recgym.choices import choice_tokens

    known: list[str] | None = None
    for token in argv:
        if token.startswith("-") or ":" not in token or " " in token:
            continue
        known = known if known is not None else choice_tokens(args_type)
        if token not in known:
            close = difflib.get_close_matches(token, known, n=1, cutoff=0.75)
            if close:
                _fail(f"unknown choice {token!r}; did you mean {close[0]!r}? (--help lists every choice)")


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)
