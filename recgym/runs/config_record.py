"""A config as the JSON a run folder keeps: every typed choice says which alternative it holds.

`dataclasses.asdict` drops the type of a value, so an agent config and another with the same fields
would read alike; here each value of a union-typed field (an agent, a data source, a model's
architecture, the dynamics) carries `"kind"`, its command-line name (`slateq`, `movielens`, `sasrec`).
Resume checks and settings hashes compare these records.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

import tyro

from recgym.choices import resolved_union


def config_record(config: Any) -> dict[str, Any]:
    """config (a dataclass) as a dict of plain values, each chosen alternative tagged with its `kind`."""
    hints = typing.get_type_hints(type(config), include_extras=True)
    record: dict[str, Any] = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            kind = _choice_names(hints[field.name]).get(type(value))
            record[field.name] = ({"kind": kind} if kind else {}) | config_record(value)
        else:
            record[field.name] = _plain(value)
    return record


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return config_record(value)
    if isinstance(value, tuple | list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _choice_names(hint: Any) -> dict[type, str]:
    """The alternatives of a union-typed field and their subcommand names ({} when it is no union)."""
    hint = resolved_union(hint)
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    if typing.get_origin(hint) not in (typing.Union, types.UnionType):
        return {}
    names: dict[type, str] = {}
    for alternative in typing.get_args(hint):
        name = None
        if typing.get_origin(alternative) is typing.Annotated:
            alternative, *extras = typing.get_args(alternative)
            name = next(
                (getattr(extra, "name", None) for extra in extras if isinstance(extra, _SUBCOMMAND)), None
            )
        names[alternative] = name or alternative.__name__
    return names


_SUBCOMMAND = type(tyro.conf.subcommand("x"))
