"""What every experiment's command line shares: tyro with typed choices, `--import` of the user's own
modules (whose registrations become choices), and bad input said in one line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from recgym.data import LogError
from recgym.runs.checkpoint import CheckpointError
from recgym.simulators.registry import SimulatorError

INPUT_ERRORS = (LogError, CheckpointError, SimulatorError, FileNotFoundError)
"""What bad input (a file, a cache, a simulator) raises: the command line says it in one line."""


def parse(args_type: type, argv: list[str], default: Any = None) -> Any:
    """argv as an `args_type`: typed choices (`agent:sb3-ppo`) and options in any order, after importing
    the modules named by `--import` (so that what they register is a choice); tyro's message and exit
    status 2 if bad."""
    import tyro

    argv = import_plugins(argv)
    check_choices(args_type, argv)
    return tyro.cli(args_type, args=argv, default=default, config=(tyro.conf.CascadeSubcommandArgs,))


def run_cli(main: Callable[[Any], Any], args_type: type, default: Any = None) -> None:
    """`main(parse(args_type, sys.argv[1:]))` that ends with `error: <message>` and exit status 2, not
    a traceback, when the input is bad (`INPUT_ERRORS`)."""
    args = parse(args_type, sys.argv[1:], default)
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
