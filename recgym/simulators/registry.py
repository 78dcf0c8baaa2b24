"""Simulators by name, so envs and CLIs can build the defaults (and plug-ins) from a string."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from recgym.models.zoo import MODEL_NAMES, ModelName
from recgym.simulators.dynamics import DynamicsConfig
from recgym.simulators.protocol import UserSimulator

if TYPE_CHECKING:
    from recgym.models.fitted import FittedUserModel

SimulatorFactory = Callable[..., UserSimulator]
_REGISTRY: dict[str, SimulatorFactory] = {}


def default_cache_dir() -> Path:
    """Where fitted user models are cached: $RECGYM_CACHE, else ~/.cache/recgym."""
    return Path(os.environ.get("RECGYM_CACHE", Path.home() / ".cache" / "recgym"))


def register_simulator(name: str, factory: SimulatorFactory) -> None:
    """Make `make_simulator(name, **kwargs)` call `factory(**kwargs)`."""
    if not name or name != name.lower():
        raise ValueError(f"simulator names are non-empty and lowercase, got {name!r}")
    _REGISTRY[name] = factory


def registered_simulators() -> list[str]:
    return sorted(_REGISTRY)


def make_simulator(name: str, **kwargs: Any) -> UserSimulator:
    """Build a registered simulator by name."""
    if name not in _REGISTRY:
        raise KeyError(f"unknown simulator {name!r}; registered: {registered_simulators()}")
    return _REGISTRY[name](**kwargs)


def fitted_simulator(
    fitted: FittedUserModel,
    dynamics: DynamicsConfig | None = None,
    reward: str = "click",
    device: str | torch.device = "cpu",
) -> UserSimulator:
    """The simulator a fitted model drives: interest that moves with consumption for sequence models,
    the logged preferences for id-based ones; `dynamics` apply to both as configured, leave rule
    included. `learn_dynamics(simulator, log).install(simulator)` replaces them with dynamics learned
    from the log's sessions.
    """
    from recgym.models.zoo import is_sequential
    from recgym.simulators.log_fitted import LogFittedSimulator
    from recgym.simulators.sequence import SequenceSimulator

    simulator_class = SequenceSimulator if is_sequential(fitted.model) else LogFittedSimulator
    return simulator_class(fitted, dynamics, reward=reward, device=device)


def _world(**kwargs: Any) -> UserSimulator:
    from recgym.simulators.world import GroundTruthWorld

    return GroundTruthWorld(**kwargs)


def _fitted_on_synthetic_logs(model: ModelName) -> SimulatorFactory:
    def factory(
        cache_dir: str | Path | None = None,
        device: str = "cpu",
        reward: str = "click",
        progress: bool = False,
    ) -> UserSimulator:
        from recgym.data.synthetic import LoggingConfig, generate_logs
        from recgym.models.fitted import UserModelConfig, fit_user_model
        from recgym.simulators.learned_dynamics import learn_dynamics

        logging = LoggingConfig()
        log, _ = generate_logs(logging)
        config = UserModelConfig(model=model)
        fitted = fit_user_model(log, config, cache_dir=cache_dir or default_cache_dir(), progress=progress)
        simulator = fitted_simulator(fitted, reward=reward, device=device)
        return learn_dynamics(simulator, log, censor_length=logging.horizon).install(simulator)

    factory.__doc__ = (
        f"{model} fitted on the default synthetic logs (fitted once, then loaded from the cache), with"
        " the dynamics learned from their sessions."
    )
    return factory


register_simulator("world", _world)
for _model in MODEL_NAMES:
    register_simulator(f"{_model}-synthetic", _fitted_on_synthetic_logs(_model))
