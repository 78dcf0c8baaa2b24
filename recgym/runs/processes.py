"""Running one experiment over several seeds (in parallel processes) and summarising across them.

Intervals across seeds are `recgym.reports.intervals`'.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

import torch

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


def map_in_processes(
    function: Callable[[ItemT], ResultT], items: Sequence[ItemT], workers: int = 1
) -> list[ResultT]:
    """[function(item) for item in items], `workers` spawned processes at a time (one torch thread
    each), in the order of items."""
    if workers <= 1:
        return [function(item) for item in items]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(items)), mp_context=context, initializer=_one_thread) as pool:
        return list(pool.map(function, items))


def run_seeds(
    main: Callable[[ArgsT], dict[str, Any]], args: ArgsT, seeds: Sequence[int], workers: int = 1
) -> list[dict[str, Any]]:
    """`main(args with seed=s)` for every seed, `workers` processes at a time (one torch thread each)."""
    if not seeds:
        raise ValueError("give at least one seed")
    configs = [dataclasses.replace(args, seed=seed) for seed in seeds]  # type: ignore[type-var]
    return map_in_processes(main, configs, workers)  # in seed order
