"""A replay buffer of tensors kept on the agent's device (no host copy per transition)."""

from __future__ import annotations

from typing import Any

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

    def state_dict(self) -> dict[str, Any]:
        """Position, size and the filled rows only (rows [0, size) until the ring first wraps)."""
        filled = _take(self.storage, torch.arange(self.size, device=self.device))
        return {"capacity": self.capacity, "size": self.size, "position": self.position, "storage": filled}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a `state_dict()` of a buffer of the same capacity; ValueError otherwise."""
        if state["capacity"] != self.capacity:
            raise ValueError(f"replay capacity is {self.capacity}, the saved buffer's {state['capacity']}")
        self.size, self.position, self.storage = state["size"], state["position"], {}
        if self.size:
            saved = to_device(state["storage"], self.device)
            self.storage = self._allocate(saved)
            _write(self.storage, saved, torch.arange(self.size, device=self.device))


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


def to_device(fields: Fields, device: torch.device | str) -> Fields:
    """fields (tensors, or dicts of them) moved to device."""
    return {
        key: to_device(value, device) if isinstance(value, dict) else value.to(device)
        for key, value in fields.items()
    }
