"""`recgym <command> [options]`: the experiments of an installed recgym, by name.

recgym dqn                      # the same as `python -m experiments.dqn` in a checkout
recgym compare --agents slateq sb3-ppo
recgym fit-user-model user-model.model:sasrec data:movielens --data.path ml-100k
recgym dqn --help               # every option of one command
"""

from __future__ import annotations

import ast
import runpy
import sys
from importlib.util import find_spec
from pathlib import Path

COMMANDS = (
    "dqn",
    "compare",
    "fit-user-model",
    "fidelity",
    "tradeoff",
    "sim-to-real",
    "ppo",
    "a2c",
    "qrdqn",
    "slateq",
    "topk-reinforce",
)
"""Each runs the module `recgym.experiments.<command with _ for ->`."""


def _module(command: str) -> str:
    return f"recgym.experiments.{command.replace('-', '_')}"


def _summary(command: str) -> str:
    """The first line of a command's module docstring, read without importing it (torch is slow)."""
    spec = find_spec(_module(command))
    if spec is None or spec.origin is None:
        return ""
    docstring = ast.get_docstring(ast.parse(Path(spec.origin).read_text())) or ""
    return docstring.splitlines()[0] if docstring else ""


def usage() -> str:
    lines = [
        "usage: recgym <command> [options]    (recgym <command> --help for its options)",
        "",
        "commands:",
    ]
    lines += [f"  {command:<16} {_summary(command)}" for command in COMMANDS]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run one experiment as if by `python -m`, with the rest of the command line as its options."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        sys.exit(0 if argv else 2)
    command, options = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"error: unknown command {command!r}; recgym knows {', '.join(COMMANDS)}", file=sys.stderr)
        sys.exit(2)
    sys.argv = [f"recgym {command}", *options]
    runpy.run_module(_module(command), run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
