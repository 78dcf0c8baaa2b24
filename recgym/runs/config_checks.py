"""Checks of the experiments' options, run when their `Args` is built (`__post_init__`).

A bad value then fails before anything is loaded, fitted or written: in-process as a `ValueError`
naming the option, on the command line as tyro's error box with the usage (exit status 2).
"""

from __future__ import annotations

from typing import Any

import torch

SEED_END = 2**32
"""Seeds must lie below this: stable-baselines3 seeds NumPy's legacy generator, which refuses more."""


def check_at_least_one(args: Any, *names: str) -> None:
    """ValueError naming the first option of `names` that is set (not None) and below 1."""
    for name in names:
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ValueError(f"{type(args).__name__}.{name} must be >= 1, got {value}")


def check_seeds(args: Any, name: str) -> None:
    """ValueError unless the option `name` (a seed, or a tuple of them) lies in [0, SEED_END)."""
    value = getattr(args, name)
    for seed in value if isinstance(value, tuple) else (value,):
        if not 0 <= seed < SEED_END:
            raise ValueError(f"{type(args).__name__}.{name} must be in [0, 2**32), got {seed}")


def check_device(args: Any) -> None:
    try:
        torch.device(args.device)
    except RuntimeError as error:
        raise ValueError(
            f"{type(args).__name__}.device {args.device!r} is not a torch device ({error})"
        ) from None
