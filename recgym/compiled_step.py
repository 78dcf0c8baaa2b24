"""`Sessions.step`, compiled ahead of time into one native call: the single env's fast path.

A session step for one user is a few hundred torch ops on tensors of a handful of numbers, each with a
fixed dispatch cost, so the eager batch-of-one step costs far more than its arithmetic
(docs/BENCHMARKS.md, "The single env's fixed cost"). `torch.compile` fuses the arithmetic but adds
its own per-call wrappers. This module exports the same `Sessions.step` code with `torch.export` and
compiles it with AOTInductor into a shared library, then calls that library's runner with a flat
list of tensors. Its fixed cost is a few tens of microseconds. Its arithmetic is the eager step's, but
fused sums may round differently in the last bit (about 1e-7 in a click probability), so a session
could part from the eager one where a random draw falls within that of a probability: the tests
replay whole sessions of both and find them equal.

The step is exported as a pure function of the sessions' tensors, the random streams' counters and
the simulator's state; the simulator's own tensors (embeddings, weights) are baked into the library
as constants, so one compiled step serves one simulator object, at one batch size. Compiling takes
10-20 s on a CPU and needs a C++ compiler (as `torch.compile` on a CPU does); the result is kept for
the life of the process, per simulator and shape, so envs built on the same simulator share it.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from recgym.random import RowStreams
from recgym.sessions import Sessions, StepResult, check_rewards
from recgym.simulators.choice import ChoiceConfig

_RESULT_FIELDS = tuple(field.name for field in dataclasses.fields(StepResult))
Observe = Callable[[Sessions], torch.Tensor]
"""Makes an observation tensor of sessions (a dense observation, say): compiled into the step with it."""
_SCALAR_LOOPS = {"cpp.simdlen": 1}
"""Inductor's vectorized CPU loops copy a bool mask of 100,000 items 25x slower than scalar ones do
(about 860 against 35 microseconds here, torch 2.13); the step's other loops run over a few numbers."""
_NO_MASK = torch.zeros(0, dtype=torch.bool)
"""Stands for the shown mask when the simulator keeps it in its state (the step neither reads nor
changes it)."""


class _PureStep(torch.nn.Module):
    """`Sessions.step` as a function of tensors: nothing given is changed in place (`length` and an own
    shown mask are copied before the step adds to them), every new tensor is returned, and last the
    observation `observe` makes of the stepped sessions, if given."""

    def __init__(self, sessions: Sessions, choice: ChoiceConfig | None, observe: Observe | None):
        super().__init__()
        self.template, self.choice, self.observe = sessions, choice, observe
        self.state_keys = tuple(sessions.state)

    def forward(
        self, slate: torch.Tensor, session: list[torch.Tensor], streams: list[torch.Tensor]
    ) -> list[torch.Tensor]:
        users, history_items, history_responses, length, shown = session[:5]
        keys, counters = streams
        sessions = copy.copy(self.template)
        sessions.users, sessions.history_items = users, history_items
        sessions.history_responses = history_responses
        sessions.length = length.clone()
        sessions.state = dict(zip(self.state_keys, session[5:], strict=True))
        sessions._shown = None if self.template._shown is None else shown.clone()
        rng = RowStreams(keys)
        rng.counters = counters
        result = Sessions.step(sessions, slate, rng, self.choice, check=False)
        own_shown = [] if sessions._shown is None else [sessions._shown]
        state = [sessions.state[key] for key in self.state_keys]
        new_session = [sessions.history_items, sessions.history_responses, sessions.length, rng.counters]
        observation = [] if self.observe is None else [self.observe(sessions)]
        return (
            [getattr(result, name) for name in _RESULT_FIELDS] + new_session + own_shown + state + observation
        )


class CompiledStep:
    """One simulator's session step for `batch_size` users, compiled (see the module's docstring).

    `step(sessions, slate, rng)` does what `sessions.step(slate, rng, choice, check=False)` does (up to
    the rounding said above), and then checks the rewards as the eager step does: a non-finite one raises
    `FloatingPointError` with nothing changed. The caller checks the slate's ids. With `observe`, the
    step also returns observe's observation of the stepped sessions, made in the same native call.
    """

    def __init__(
        self,
        sessions: Sessions,
        rng: RowStreams,
        choice: ChoiceConfig | None = None,
        observe: Observe | None = None,
    ):
        self.state_keys = tuple(sessions.state)
        self.own_shown = sessions._shown is not None
        self.observes = observe is not None
        slate = torch.zeros(sessions.batch_size, 1 if choice is None else choice.slate_size, dtype=torch.long)
        slate, session, streams = _inputs(sessions, slate, rng)
        # Distinct example tensors: export would otherwise take tensors that alias one another (a fresh
        # state's zeros often do) for one input, and read one where the step reads the other.
        example = (slate, [value.clone() for value in session], [value.clone() for value in streams])
        name = type(sessions.simulator).__name__
        try:
            with torch.no_grad():
                exported = torch.export.export(_PureStep(sessions, choice, observe), example)
        except Exception as error:  # export names what it could not trace, in its own words
            raise RuntimeError(
                f"compile=True could not trace {name}'s step with torch.export ({type(error).__name__}: "
                f"{str(error).splitlines()[0] if str(error) else ''}); a step that reads tensor values in "
                "Python (item(), bool(), if on a tensor) cannot be compiled: build the env with compile=False"
            ) from error
        from torch._inductor import aoti_compile_and_package, aoti_load_package  # 1.5 s: on first use

        with tempfile.TemporaryDirectory() as folder:
            try:
                package = aoti_compile_and_package(
                    exported, package_path=str(Path(folder) / "step.pt2"), inductor_configs=_SCALAR_LOOPS
                )
            except Exception as error:
                raise RuntimeError(
                    f"compile=True could not compile {name}'s step with AOTInductor, which needs a C++ "
                    f"compiler ({type(error).__name__}); build the env with compile=False"
                ) from error
            with _quiet_isa_check():
                self._loader = aoti_load_package(package).loader

    def step(
        self, sessions: Sessions, slate: torch.Tensor, rng: RowStreams
    ) -> tuple[StepResult, torch.Tensor | None]:
        """Advance sessions by slate [B, k] (long, ids in range) with rng's streams; the result and the
        observation made by `observe` (None without)."""
        slate, session, streams = _inputs(sessions, slate, rng)
        outputs = self._loader.boxed_run([slate, *session, *streams])
        result = StepResult(**dict(zip(_RESULT_FIELDS, outputs, strict=False)))
        if not all(map(math.isfinite, result.reward.tolist())):  # a few rows: cheaper than torch.isfinite
            check_rewards(result.reward)
        new = outputs[len(_RESULT_FIELDS) :]
        sessions.history_items, sessions.history_responses, sessions.length, rng.counters = new[:4]
        if self.own_shown:
            sessions._shown = new[4]
        start = 4 + self.own_shown
        sessions.state = dict(zip(self.state_keys, new[start : start + len(self.state_keys)], strict=True))
        return result, new[start + len(self.state_keys)] if self.observes else None


def _inputs(
    sessions: Sessions, slate: torch.Tensor, rng: RowStreams
) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """The step's arguments: slate, the sessions' tensors (an empty shown mask when the simulator keeps
    it), the streams' keys and counters."""
    shown = _NO_MASK if sessions._shown is None else sessions._shown
    session = [sessions.users, sessions.history_items, sessions.history_responses, sessions.length, shown]
    return slate, session + list(sessions.state.values()), [rng.keys, rng.counters]


_COMPILED: dict[tuple[Any, ...], tuple[object, CompiledStep]] = {}


def compiled_step(
    sessions: Sessions,
    rng: RowStreams,
    choice: ChoiceConfig | None = None,
    observe: tuple[str, Observe] | None = None,
) -> CompiledStep:
    """The compiled step of sessions' simulator, shape and choice model, and of the observation named
    observe[0] that observe[1] makes (a name: envs that observe alike share the step): compiled at the
    first call, kept for the process (with its simulator, so that the simulator's id names it)."""
    simulator = sessions.simulator
    shapes = tuple((name, tuple(value.shape), value.dtype) for name, value in sessions.state.items())
    kind = None if observe is None else observe[0]
    key = (id(simulator), sessions.batch_size, sessions.history_len, sessions.horizon, choice, shapes, kind)
    if key not in _COMPILED:
        step = CompiledStep(sessions, rng, choice, None if observe is None else observe[1])
        _COMPILED[key] = (simulator, step)
    return _COMPILED[key][1]


@contextmanager
def _quiet_isa_check() -> Iterator[None]:
    """Loading a package compiled with scalar loops logs a warning that its vector ISA differs from the
    machine's; scalar loops run on any, so it is silenced while the package loads."""
    package_logger = logging.getLogger("torch.export.pt2_archive._package")
    level = package_logger.level
    package_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        package_logger.setLevel(level)
