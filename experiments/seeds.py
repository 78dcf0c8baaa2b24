"""Running one experiment over several seeds (in parallel processes) and summarising across them.

A single training run says little about an RL method; the comparisons in docs/ are over at least five
seeds, with the interval of the mean across seeds (Student's t, since there are few of them).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

import numpy as np
import torch
from scipy import stats

ArgsT = TypeVar("ArgsT")
ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


def _one_thread() -> None:
    torch.set_num_threads(1)


def run_in_processes(
    function: Callable[[ItemT], ResultT], items: Sequence[ItemT], workers: int = 1
) -> Iterator[ResultT]:
    """function(item) for every item, `workers` spawned processes at a time (one torch thread each),
    yielded as they finish; in this process, in order, with one worker."""
    if workers <= 1:
        yield from map(function, items)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(items)), mp_context=context, initializer=_one_thread) as pool:
        for future in as_completed([pool.submit(function, item) for item in items]):
            yield future.result()


def run_seeds(
    main: Callable[[ArgsT], dict[str, Any]], args: ArgsT, seeds: Sequence[int], workers: int = 1
) -> list[dict[str, Any]]:
    """`main(args with seed=s)` for every seed, `workers` processes at a time (one torch thread each)."""
    if not seeds:
        raise ValueError("give at least one seed")
    configs = [dataclasses.replace(args, seed=seed) for seed in seeds]  # type: ignore[type-var]
    if workers <= 1:
        return [main(config) for config in configs]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(configs)), mp_context=context, initializer=_one_thread) as pool:
        return list(pool.map(main, configs))  # in seed order


def mean_interval(values: Sequence[float], level: float = 0.95) -> dict[str, Any]:
    """Mean over seeds with its Student-t interval (a zero-width interval for a single seed)."""
    array = np.asarray(values, dtype=np.float64)
    mean = float(array.mean())
    if len(array) < 2:
        return {"mean": mean, "ci95": [mean, mean], "values": array.tolist()}
    half = float(stats.t.ppf(0.5 + level / 2, len(array) - 1) * array.std(ddof=1) / np.sqrt(len(array)))
    return {"mean": mean, "ci95": [mean - half, mean + half], "values": array.tolist()}


def format_interval(summary: dict[str, Any], digits: int = 3) -> str:
    low, high = summary["ci95"]
    return f"{summary['mean']:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"
