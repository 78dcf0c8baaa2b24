"""A replay buffer of tensors kept on the agent's device (no host copy per transition)."""

from __future__ import annotations

import torch

Fields = dict[str, "torch.Tensor | Fields"]


class TensorReplay:
    """A ring buffer of named tensors (or dicts of them, like observations); each has a leading batch
    dimension when added and is allocated on the first `add`.

    :param capacity: transitions kept; the oldest are overwritten.
    :param device: where the buffer lives.
    """

    def __init__(self, capacity: int, device: torch.device | str):
        if capacity < 1:
            raise ValueError(f"replay capacity must be >= 1, got {capacity}")
        self.capacity, self.device = capacity, torch.device(device)
        self.size = self.position = 0
        self.storage: Fields = {}

    def _allocate(self, example: Fields) -> Fields:
        return {
            key: self._allocate(value)
            if isinstance(value, dict)
            else torch.zeros(self.capacity, *value.shape[1:], dtype=value.dtype, device=self.device)
            for key, value in example.items()
        }

    def add(self, **fields: torch.Tensor | Fields) -> None:
        """Write a batch of transitions (every field with the same leading dimension)."""
        if not self.storage:
            self.storage = self._allocate(fields)
        n = _leading(fields)
        index = (self.position + torch.arange(n, device=self.device)) % self.capacity
        _write(self.storage, fields, index)
        self.position = (self.position + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, generator: torch.Generator) -> Fields:
        """batch_size transitions drawn uniformly with replacement, in the structure they were added."""
        if self.size == 0:
            raise RuntimeError("sample from an empty replay buffer")
        index = torch.randint(self.size, (batch_size,), generator=generator, device=self.device)
        return _take(self.storage, index)


def _leading(fields: Fields) -> int:
    value = next(iter(fields.values()))
    return _leading(value) if isinstance(value, dict) else value.shape[0]


def _write(storage: Fields, fields: Fields, index: torch.Tensor) -> None:
    for key, value in fields.items():
        if isinstance(value, dict):
            _write(storage[key], value, index)  # type: ignore[arg-type]
        else:
            storage[key][index] = value  # type: ignore[index]


def _take(storage: Fields, index: torch.Tensor) -> Fields:
    return {
        key: _take(value, index) if isinstance(value, dict) else value[index]
        for key, value in storage.items()
    }
