"""Open sets of typed choices: the data sources, agents and other alternatives a config field may hold,
registered by name as Gymnasium registers envs, and read when a command line is parsed, not frozen at
import, so a class registered from a user's own module is a choice like the built-in ones.

    SOURCES = Choices("data source")
    SOURCES.register("movielens", MovieLensLogs)
    data: SOURCES.field_type() = ...        # tyro offers data:movielens, data:<anything registered later>
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Union

import tyro


class ChoiceError(ValueError):
    """An unknown name or a class that cannot be registered; the message names the problem and the fix."""


class Choices:
    """The alternatives of one kind (`kind` names it in messages), by their command-line name."""

    def __init__(self, kind: str):
        self.kind = kind
        self._classes: dict[str, type] = {}

    def register(self, name: str, config_class: type) -> type:
        """Make config_class the choice `name`; a name taken by another class is an error (re-registering
        the same class, as a re-imported module does, is not)."""
        if not name or name != name.lower() or " " in name:
            raise ChoiceError(f"{self.kind} names are lowercase words joined by '-', got {name!r}")
        if not (inspect.isclass(config_class) and dataclasses.is_dataclass(config_class)):
            raise ChoiceError(f"a {self.kind} is a dataclass (its fields are its options): {config_class!r}")
        taken = self._classes.get(name)
        if taken is not None and _qualified(taken) != _qualified(config_class):
            raise ChoiceError(f"{self.kind} {name!r} is already {_qualified(taken)}; choose another name")
        self._classes[name] = config_class
        return config_class

    def unregister(self, name: str) -> None:
        """Forget the choice `name` (a test's, or a plug-in's being reloaded); unknown names are an error."""
        self[name]
        del self._classes[name]

    def names(self) -> list[str]:
        """Registered names, in the order they were registered."""
        return list(self._classes)

    def classes(self) -> dict[str, type]:
        return dict(self._classes)

    def __getitem__(self, name: str) -> type:
        """The class registered as name; ChoiceError listing the names, and the closest, otherwise."""
        if name in self._classes:
            return self._classes[name]
        close = difflib.get_close_matches(name, self._classes, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ChoiceError(f"unknown {self.kind} {name!r}; {hint}recgym knows {', '.join(self._classes)}")

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def name_of(self, config: Any) -> str | None:
        """The name config's class is registered under (None: not registered)."""
        return next((name for name, cls in self._classes.items() if cls is type(config)), None)

    def union(self) -> Any:
        """Every registered class as tyro's subcommands `<field>:<name>`; a subclass stands before its
        bases, since tyro gives a default to the first alternative it is an instance of."""
        ordered: list[tuple[str, type]] = []
        for name, cls in self._classes.items():  # registration order, each class moved before its bases
            bases = [i for i, (_, placed) in enumerate(ordered) if issubclass(cls, placed)]
            ordered.insert(bases[0] if bases else len(ordered), (name, cls))
        return Union[tuple(Annotated[cls, tyro.conf.subcommand(name)] for name, cls in ordered)]  # noqa: UP007

    def field_type(self) -> Any:
        """A config field's annotation holding one registered alternative, resolved when parsed."""
        return Annotated[object, tyro.conf.arg(constructor_factory=self.union)]

    def names_type(self) -> Any:
        """A field's annotation holding registered names (`--agents slateq sb3-ppo`), resolved when parsed."""

        def names() -> Any:
            return tuple[Literal[tuple(self._classes)], ...]  # type: ignore[misc]

        return Annotated[tuple[str, ...], tyro.conf.arg(constructor_factory=names)]


def resolved_union(hint: Any) -> Any:
    """The union behind a `Choices.field_type()` annotation as it is now (other hints unchanged)."""
    if getattr(hint, "__origin__", None) is not None and hasattr(hint, "__metadata__"):
        for extra in hint.__metadata__:
            factory = getattr(extra, "constructor_factory", None)
            if factory is not None:
                return factory()
    return hint


def choice_tokens(config_type: type, prefix: str = "") -> list[str]:
    """Every `<field path>:<name>` a command line of config_type takes (`agent:slateq`,
    `run.data:movielens`, `user-model.model:sasrec`), whatever is registered now."""
    import typing

    tokens: list[str] = []
    hints = typing.get_type_hints(config_type, include_extras=True)
    for field in dataclasses.fields(config_type):
        renamed = [getattr(extra, "name", None) for extra in getattr(hints[field.name], "__metadata__", ())]
        name = next((n for n in renamed if isinstance(n, str)), field.name)  # tyro.conf.arg(name=...)
        path = f"{prefix}{name.replace('_', '-')}"
        union = resolved_union(hints[field.name])
        if typing.get_origin(union) is typing.Annotated:
            union = typing.get_args(union)[0]
        alternatives = typing.get_args(union) if typing.get_origin(union) is Union else ()
        for alternative in alternatives:
            cls, *extras = typing.get_args(alternative) or (alternative,)
            names = [getattr(extra, "name", None) for extra in extras]
            tokens += [f"{path}:{name}" for name in names if isinstance(name, str)]
            if dataclasses.is_dataclass(cls):
                tokens += choice_tokens(cls, f"{path}.")  # type: ignore[arg-type]
        if not alternatives and inspect.isclass(union) and dataclasses.is_dataclass(union):
            tokens += choice_tokens(union, f"{path}.")
    return list(dict.fromkeys(tokens))


def _qualified(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"
