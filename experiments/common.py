"""What every experiment's command line shares: tyro with typed choices, old flags rewritten, and bad
input said in one line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from recgym.checkpoint import CheckpointError
from recgym.data import LogError
from recgym.experiments.legacy_flags import modernise
from recgym.simulators.registry import SimulatorError

INPUT_ERRORS = (LogError, CheckpointError, SimulatorError, FileNotFoundError)
"""What bad input (a file, a cache, a simulator) raises: the command line says it in one line."""


def parse(args_type: type, argv: list[str], default: Any = None, **legacy: Any) -> Any:
    """argv as an `args_type`: typed choices (`agent:sb3-ppo`) and options in any order, old flags
    rewritten as `legacy` says (`legacy_flags.modernise`); tyro's message and exit status 2 if bad."""
    import tyro

    argv = modernise(argv, **legacy)
    return tyro.cli(args_type, args=argv, default=default, config=(tyro.conf.CascadeSubcommandArgs,))


def run_cli(main: Callable[[Any], Any], args_type: type, default: Any = None, **legacy: Any) -> None:
    """`main(parse(args_type, sys.argv[1:]))` that ends with `error: <message>` and exit status 2, not
    a traceback, when the input is bad (`INPUT_ERRORS`)."""
    args = parse(args_type, sys.argv[1:], default, **legacy)
    try:
        main(args)
    except INPUT_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
