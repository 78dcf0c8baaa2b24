"""The user models recgym can fit, by name: one place that maps a name to its class and config."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Union

import tyro

from recgym.models.autorec import AutoRec, AutoRecConfig
from recgym.models.caser import Caser, CaserConfig
from recgym.models.contract import UserModel
from recgym.models.gru4rec import GRU4Rec, GRU4RecConfig
from recgym.models.mf import MF, MFConfig
from recgym.models.neumf import NeuMF, NeuMFConfig
from recgym.models.sasrec import SASRec, SASRecConfig
from recgym.models.sequential import SequenceModel

ModelName = Literal["neumf", "mf", "autorec", "gru4rec", "caser", "sasrec"]
MODEL_NAMES: tuple[ModelName, ...] = ("neumf", "mf", "autorec", "gru4rec", "caser", "sasrec")


ArchitectureConfig = NeuMFConfig | MFConfig | AutoRecConfig | GRU4RecConfig | CaserConfig | SASRecConfig

_CLASSES: dict[str, tuple[type, type]] = {
    "neumf": (NeuMF, NeuMFConfig),
    "mf": (MF, MFConfig),
    "autorec": (AutoRec, AutoRecConfig),
    "gru4rec": (GRU4Rec, GRU4RecConfig),
    "caser": (Caser, CaserConfig),
    "sasrec": (SASRec, SASRecConfig),
}


_NAMES: dict[type, ModelName] = {config: name for name, (_, config) in _CLASSES.items()}  # type: ignore[misc]

if TYPE_CHECKING:
    ArchitectureChoice = ArchitectureConfig
else:  # the same union, each config named for tyro's subcommands (model:<name>), built from the zoo
    ArchitectureChoice = Union[  # noqa: UP007
        tuple(Annotated[config, tyro.conf.subcommand(name)] for name, (_, config) in _CLASSES.items())
    ]
"""Any model's architecture config, as a typed choice: `model:sasrec --model.num-blocks 2` on the
command line."""


def model_name(config: ArchitectureConfig) -> ModelName:
    """The zoo's name of the model an architecture config is of ("neumf", "sasrec", ...)."""
    if type(config) not in _NAMES:
        raise TypeError(f"{type(config).__name__} is not the config of a model of the zoo {MODEL_NAMES}")
    return _NAMES[type(config)]


def default_architecture(name: str) -> ArchitectureConfig:
    """Model `name`'s default architecture config; ValueError naming the zoo's models otherwise."""
    return check_config(name, None)


def check_config(name: str, config: ArchitectureConfig | None) -> ArchitectureConfig:
    """config (or the default one when None) if it is model `name`'s; a clear error otherwise."""
    if name not in _CLASSES:
        raise ValueError(f"unknown user model {name!r}; choose one of {MODEL_NAMES}")
    config_class = _CLASSES[name][1]
    chosen: ArchitectureConfig = config_class() if config is None else config
    if not isinstance(chosen, config_class):
        raise TypeError(f"{name} needs a {config_class.__name__}, got {type(chosen).__name__}")
    return chosen


def build_model(name: str, config: ArchitectureConfig | None, n_users: int, n_items: int) -> UserModel:
    """A freshly initialised model `name` for n_users x n_items (its default config when None)."""
    config = check_config(name, config)
    return _CLASSES[name][0](config, n_users, n_items)


def is_sequential(model: UserModel) -> bool:
    """True for models whose user state moves with consumption (their scores cannot be tabulated)."""
    return isinstance(model, SequenceModel)
