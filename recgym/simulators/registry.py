"""Simulators by name, so envs and CLIs can build the defaults (and plug-ins) from a string.

A name is either one given to `register_simulator` or an import path `module.path:ClassName` of any
callable that returns a `UserSimulator` (a class written from scratch needs no registration).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from recgym.checkpoint import check_cache_dir
from recgym.models.zoo import MODEL_NAMES, ModelName, default_architecture
from recgym.simulators.dynamics import DynamicsConfig
from recgym.simulators.protocol import UserSimulator

if TYPE_CHECKING:
    from recgym.models.fitted import FittedUserModel
    from recgym.simulators.rewards import RewardName

SimulatorFactory = Callable[..., UserSimulator]


class SimulatorError(ValueError):
    """A simulator name or its keyword arguments that cannot build a simulator; the message says why."""


_REGISTRY: dict[str, SimulatorFactory] = {}


def default_cache_dir() -> Path:
    """Where fitted user models are cached: $RECGYM_CACHE, else ~/.cache/recgym.

    :raises ValueError: when RECGYM_CACHE is set but empty, or the folder names a file (or a path below
        one), so that the run stops before it fits anything, naming where the folder came from.
    """
    value = os.environ.get("RECGYM_CACHE")
    if value is None:
        path, source = Path.home() / ".cache" / "recgym", "the default, as RECGYM_CACHE is not set"
    elif not value.strip():
        raise ValueError("RECGYM_CACHE is set but empty: name a folder, or unset it to use ~/.cache/recgym")
    else:
        path, source = Path(value), "the RECGYM_CACHE environment variable"
    check_cache_dir(path, source, write=False)
    return path


def register_simulator(name: str, factory: SimulatorFactory) -> None:
    """Make `make_simulator(name, **kwargs)` call `factory(**kwargs)`."""
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
        return _REGISTRY[name]
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


def _world(config: Any = None, device: str = "cpu", reward: str = "click", **fields: Any) -> UserSimulator:
    """The ground-truth world, knowing what its default logs tell (users' vectors, items' popularity):
    `config` a `WorldConfig`, or its fields as plain keyword arguments (`n_items=1000`; `dynamics` as a
    dict of `DynamicsConfig` fields), as JSON can give them."""
    from recgym.data.synthetic import DefaultLogs
    from recgym.simulators.world import GroundTruthWorld, WorldConfig

    config = _with_fields(config or WorldConfig(), fields, "world")
    return GroundTruthWorld(config, device, reward, logs=DefaultLogs())


def _taking_fields_of(factory: SimulatorFactory, *config_classes: type) -> SimulatorFactory:
    """factory, its signature naming the config classes' fields in place of `**fields`, so that
    `check_simulator_arguments` (and `help`) know every keyword it takes."""
    signature = inspect.signature(factory)
    own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    names = dict.fromkeys(field.name for cls in config_classes for field in dataclasses.fields(cls))
    fields = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None) for name in names]
    factory.__signature__ = signature.replace(parameters=own + fields)  # type: ignore[attr-defined]
    return factory


def _with_fields(config: Any, fields: dict[str, Any], simulator: str) -> Any:
    """config with some of its fields replaced; SimulatorError naming a field it does not have. A
    nested config (a dataclass field) may be given as a dict of its fields."""
    known = {field.name: field for field in dataclasses.fields(config)}
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise SimulatorError(
            f"simulator {simulator!r} takes no argument {unknown[0]!r}; it takes "
            f"{', '.join(['config', 'device', 'reward', *known])}"
        )
    nested = {
        name: _with_fields(getattr(config, name), value, simulator)
        for name, value in fields.items()
        if isinstance(value, dict) and dataclasses.is_dataclass(getattr(config, name))
    }
    return dataclasses.replace(config, **(fields | nested))


def _world_fields_lifted(logs: Any, fields: dict[str, Any]) -> dict[str, Any]:
    """fields with those of the logs' world (`n_items`, `n_users`, ...) moved into `world`, so they can
    be given flat; the logs' own fields (`seed`, `horizon`) keep their names."""
    own = {field.name for field in dataclasses.fields(logs)}
    world_names = {field.name for field in dataclasses.fields(logs.world)} - own
    lifted = {name: fields[name] for name in fields if name in world_names}
    if not lifted:
        return fields
    world = fields.get("world", {})
    if not isinstance(world, dict):
        world = dataclasses.asdict(world)
    rest = {name: value for name, value in fields.items() if name not in lifted}
    return rest | {"world": world | lifted}


def _fitted_on_synthetic_logs(model: ModelName) -> SimulatorFactory:
    def factory(
        config: Any = None,
        cache_dir: str | Path | None = None,
        device: str = "cpu",
        reward: RewardName = "click",
        progress: bool = True,
        **fields: Any,
    ) -> UserSimulator:
        from recgym.data.sources import SyntheticLogs
        from recgym.models.fitted import UserModelConfig
        from recgym.world import WorldConfig as World
        from recgym.world import build_world

        logs = config or SyntheticLogs().logging
        logs = _with_fields(logs, _world_fields_lifted(logs, fields), f"{model}-synthetic")
        world = World(
            data=SyntheticLogs(logs), user_model=UserModelConfig(default_architecture(model)), reward=reward
        )
        return build_world(world, cache_dir or default_cache_dir(), device, progress).simulator

    factory.__doc__ = (
        f"{model} fitted on the synthetic logs with the dynamics learned from their sessions, made once and"
        " then loaded from the cache. `config` is the logs' `LoggingConfig`, or give its fields and its"
        " world's (`n_items=1000`, or `world={'n_items': 1000}`) as plain keyword arguments."
    )
    return factory


def _register_defaults() -> None:
    from recgym.data.synthetic import LoggingConfig
    from recgym.simulators.world import WorldConfig

    register_simulator("world", _taking_fields_of(_world, WorldConfig))
    for model in MODEL_NAMES:
        register_simulator(
            f"{model}-synthetic",
            _taking_fields_of(_fitted_on_synthetic_logs(model), LoggingConfig, WorldConfig),
        )


_register_defaults()
