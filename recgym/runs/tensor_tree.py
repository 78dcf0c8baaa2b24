"""Nested training state split into flat named tensors and a JSON skeleton, and joined back.

Checkpoints keep tensors in `weights.pt` (loaded with `weights_only=True`) and everything else in
`meta.json`, so nothing is ever unpickled. Training state is nested (an optimizer's `state_dict`,
a replay buffer of observation dicts, a list of collections): `split_tree` walks it, names each
tensor by its path (`optimizer.state.0.exp_avg`) and leaves a JSON-safe skeleton with a placeholder
where each tensor was; `join_tree` puts the tensors back. Tuples and dicts keyed by integers (as in
optimizer states) survive the round trip.
"""

from __future__ import annotations

from typing import Any

import torch

_TENSOR, _TUPLE, _INT_KEYS = "__tensor__", "__tuple__", "__int_keys__"


def split_tree(tree: Any, prefix: str = "") -> tuple[Any, dict[str, torch.Tensor]]:
    """(JSON-safe skeleton, {path: tensor}) of a tree of dicts, lists, tuples, tensors and plain values.

    TypeError naming the path of anything else (a NumPy array, an object).
    """
    tensors: dict[str, torch.Tensor] = {}

    def walk(node: Any, path: str) -> Any:
        if isinstance(node, torch.Tensor):
            tensors[path] = node
            return {_TENSOR: path}
        if isinstance(node, dict):
            if all(isinstance(key, str) for key in node):
                return {key: walk(value, _join(path, key)) for key, value in node.items()}
            if all(isinstance(key, int) and not isinstance(key, bool) for key in node):
                return {_INT_KEYS: {str(key): walk(value, _join(path, key)) for key, value in node.items()}}
            raise TypeError(f"{path or 'state'}: dict keys must be all str or all int")
        if isinstance(node, list | tuple):
            items = [walk(value, _join(path, index)) for index, value in enumerate(node)]
            return {_TUPLE: items} if isinstance(node, tuple) else items
        if node is None or isinstance(node, bool | int | float | str):
            return node
        raise TypeError(f"{path or 'state'}: cannot store a {type(node).__name__} in a checkpoint")

    return walk(tree, prefix), tensors


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def join_tree(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The tree `split_tree` took apart; KeyError naming a tensor the skeleton needs and tensors lack."""
    if isinstance(skeleton, list):
        return [join_tree(value, tensors) for value in skeleton]
    if not isinstance(skeleton, dict):
        return skeleton
    if set(skeleton) == {_TENSOR}:
        name = skeleton[_TENSOR]
        if name not in tensors:
            raise KeyError(f"the checkpoint has no tensor {name!r}")
        return tensors[name]
    if set(skeleton) == {_TUPLE}:
        return tuple(join_tree(value, tensors) for value in skeleton[_TUPLE])
    if set(skeleton) == {_INT_KEYS}:
        return {int(key): join_tree(value, tensors) for key, value in skeleton[_INT_KEYS].items()}
    return {key: join_tree(value, tensors) for key, value in skeleton.items()}
