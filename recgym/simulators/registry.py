"""Simulators by name, so envs and CLIs can build the defaults (and plug-ins) from a string.

A name is either one given to `register_simulator` or an import path `module.path:ClassName` of any
callable that returns a `UserSimulator` (a class written from scratch needs no registration).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch

from recgym.models.zoo import MODEL_NAMES
from recgym.simulators.dynamics import DynamicsConfig
from recgym.simulators.protocol import UserSimulator

if TYPE_CHECKING:
    from recgym.models.fitted import FittedUserModel

SimulatorFactory = Callable[..., UserSimulator]


class SimulatorError(ValueError):
    """A simulator name or its keyword arguments that cannot build a simulator; the message says why."""


_REGISTRY: dict[str, SimulatorFactory | str] = {}


def register_simulator(name: str, factory: SimulatorFactory | str) -> None:
    """Make `make_simulator(name, **kwargs)` call `factory(**kwargs)`; a factory given as its import path
    `module.path:name` is imported on first use, as Gymnasium's entry points are."""
    if not name or name != name.lower():
        raise ValueError(f"simulator names are non-empty and lowercase, got {name!r}")
    _REGISTRY[name] = factory


def registered_simulators() -> list[str]:
    return sorted(_REGISTRY)


def simulator_factory(name: str) -> SimulatorFactory:
    """The callable behind a registered name or a `module.path:ClassName` import path."""
    if ":" not in name:
        if name not in _REGISTRY:
            raise SimulatorError(
                f"unknown simulator {name!r}; registered: {registered_simulators()}, or give an import "
                "path 'module.path:ClassName'"
            )
        factory = _REGISTRY[name]
        if isinstance(factory, str):
            factory = _REGISTRY[name] = _imported(factory)
        return factory
    return _imported(name)


def _imported(name: str) -> SimulatorFactory:
    """The callable at import path `module.path:Name`; SimulatorError naming what cannot be found."""
    module_name, _, attribute = name.partition(":")
    try:
        factory: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise SimulatorError(f"simulator {name!r}: cannot import module {module_name!r} ({error})") from error
    for part in attribute.split("."):
        if not hasattr(factory, part):
            raise SimulatorError(f"simulator {name!r}: module {module_name!r} has no attribute {attribute!r}")
        factory = getattr(factory, part)
    if not callable(factory):
        raise SimulatorError(f"simulator {name!r}: {attribute!r} is not a class or function")
    return factory


def check_simulator_arguments(name: str, kwargs: dict[str, Any]) -> SimulatorFactory:
    """The factory of `name` once kwargs are known to fit its signature; ValueError naming the
    simulator and the argument it does not take (or the one it lacks), with those it does take."""
    factory = simulator_factory(name)
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # a builtin without a signature: let the call say
        return factory
    try:
        signature.bind(**kwargs)
    except TypeError as error:
        takes = ", ".join(signature.parameters) or "no arguments"
        raise SimulatorError(f"simulator {name!r}: {error} (it takes: {takes})") from None
    return factory


def make_simulator(name: str, **kwargs: Any) -> UserSimulator:
    """Build a simulator from a registered name or a `module.path:ClassName` import path, with kwargs.

    An import path imports its module (running its code) and calls the named object: name only code
    you trust. What the call returns is checked right after it."""
    simulator = check_simulator_arguments(name, kwargs)(**kwargs)
    if not isinstance(simulator, UserSimulator):
        missing = [
            attribute
            for attribute in (
                "n_users",
                "n_items",
                "device",
                "initial_state",
                "respond",
                "transition",
                "leaves",
            )
            if not hasattr(simulator, attribute)
        ]
        raise TypeError(
            f"simulator {name!r} built a {type(simulator).__name__}, which does not follow the UserSimulator "
            f"protocol (missing: {', '.join(missing)})"
        )
    return simulator


def fitted_simulator(
    fitted: FittedUserModel,
    dynamics: DynamicsConfig | None = None,
    reward: str = "click",
    device: str | torch.device = "cpu",
) -> UserSimulator:
    """The simulator a fitted model drives: interest that moves with consumption for sequence models,
    the logged preferences for id-based ones; `dynamics` apply to both as configured, leave rule
    included. `simulator.with_dynamics(learn_dynamics(simulator, log).params)` is a simulator with the
    dynamics learned from the log's sessions instead.
    """
    from recgym.models.zoo import is_sequential
    from recgym.simulators.log_fitted import LogFittedSimulator
    from recgym.simulators.sequence import SequenceSimulator

    simulator_class = SequenceSimulator if is_sequential(fitted.model) else LogFittedSimulator
    return simulator_class(fitted, dynamics, reward=reward, device=device)


def _register_defaults() -> None:
    """The built-in simulators, by import path (`recgym.synthetic_worlds`), imported on first use."""
    register_simulator("world", "recgym.synthetic_worlds:world")
    for model in MODEL_NAMES:
        register_simulator(f"{model}-synthetic", f"recgym.synthetic_worlds:{model}_synthetic")


_register_defaults()
