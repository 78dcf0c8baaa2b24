"""Random streams, one per simulated user, that do not depend on the batch a user runs in.

A `torch.Generator` shared by a batch hands each row different numbers depending on how many rows
there are, so a user's session would change with the batch size. `RowStreams` is counter-based:
row r's k-th draw is a hash (splitmix64) of the row's key and k. A batch of B users and B
single-user envs with the same keys therefore see the same numbers, and a whole evaluation is the
same whether it runs one user at a time or a million at once. Every operation is a few integer
tensor ops on the device: no host round-trip.
"""

from __future__ import annotations

import torch

_GOLDEN = -7046029254386353131  # 0x9E3779B97F4A7C15 as int64
_MIX1 = -4658895280553007687  # 0xBF58476D1CE4E5B9
_MIX2 = -7723592293110705685  # 0x94D049BB133111EB
_SESSION_LANE = 0x5E55  # separates per-session draws from the per-step stream
_BLOCK = 16
"""Draws per row made at once when the batch has at most `_BLOCK_ROWS` rows: a single env's step makes a
couple of one-number draws, each otherwise a dozen tensor ops of fixed cost."""
_BLOCK_ROWS = 64


def _shift_right(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's >> is arithmetic on signed integers)."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def _mix(x: torch.Tensor) -> torch.Tensor:
    """splitmix64's finaliser: a bijective scramble of 64-bit integers (wrapping arithmetic)."""
    x = x + _GOLDEN
    x = (x ^ _shift_right(x, 30)) * _MIX1
    x = (x ^ _shift_right(x, 27)) * _MIX2
    return x ^ _shift_right(x, 31)


def _unit_float(bits: torch.Tensor) -> torch.Tensor:
    """Top 24 bits as a float32 in [0, 1)."""
    return _shift_right(bits, 40).float() * (1.0 / (1 << 24))


def derive_key(seed: int) -> int:
    """A well-mixed int64 stream key from a user-facing seed."""
    return int(_mix(torch.tensor([seed], dtype=torch.int64)).item())


class RowStreams:
    """Independent random streams for B rows; row r's draws depend only on its key and its count.

    :param keys: [B] int64 stream keys (see `from_seeds`).
    """

    def __init__(self, keys: torch.Tensor):
        if keys.dtype != torch.int64 or keys.dim() != 1:
            raise ValueError(f"keys must be a 1-D int64 tensor, got {keys.dtype} {tuple(keys.shape)}")
        self.keys = keys
        self.counters = torch.zeros_like(keys)  # draws made by each row
        self.sessions = torch.zeros_like(keys)  # sessions started by each row
        self._mixed: tuple[torch.Tensor, torch.Tensor] | None = None  # (keys, _mix(keys)), made once
        self._block: tuple[torch.Tensor, torch.Tensor, torch.Tensor, int] | None = None  # `_current_block`
        self._session_keys: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # `session_streams`

    @classmethod
    def from_seeds(cls, seeds: list[int] | torch.Tensor, device: str | torch.device = "cpu") -> RowStreams:
        """Streams whose row r is the stream a single env reset with `seeds[r]` would use."""
        seeds = torch.as_tensor(seeds, dtype=torch.int64)
        return cls(_mix(seeds).to(device))

    @classmethod
    def from_seed(cls, seed: int, batch_size: int, device: str | torch.device = "cpu") -> RowStreams:
        """B streams from one seed (row r keyed by the seed and r)."""
        rows = torch.arange(batch_size, dtype=torch.int64)
        return cls(_mix(rows ^ derive_key(seed)).to(device))

    @property
    def batch_size(self) -> int:
        return self.keys.shape[0]

    @property
    def device(self) -> torch.device:
        return self.keys.device

    def uniform(self, *shape: int) -> torch.Tensor:
        """[B, *shape] floats in [0, 1); each row advances its own counter by prod(shape)."""
        n = 1
        for size in shape:
            n *= size
        block = self._current_block(n)
        if block is None:
            values = self._draw(self.counters, n)
            self.counters = self.counters + n
        else:
            draws, used = block
            values = draws[:, used : used + n].clone()  # a caller may change its draws in place
            self.counters = self.counters + n
            self._block = (self.keys, self.counters, draws, used + n)
        return values.view(self.batch_size, *shape)

    def _draw(self, counters: torch.Tensor, n: int) -> torch.Tensor:
        """[B, n] the draws numbered counters, counters + 1, ... of each row."""
        index = counters[:, None] + torch.arange(n, device=self.device)
        return _unit_float(_mix(self._mixed_keys()[:, None] ^ index))

    def _current_block(self, n: int) -> tuple[torch.Tensor, int] | None:
        """(draws [B, _BLOCK] drawn ahead from the counters on, how many of them are used) when the next
        n draws can come from it: the same numbers `_draw` gives, for a dozen fewer small tensor ops.
        None where a block does not pay: a large batch, more than a block's draws, a step being
        compiled. A block stays valid while `keys` and `counters` are the tensors it left there; any
        other change of them (a `load_state_dict`, say) replaces those tensors."""
        if self.batch_size > _BLOCK_ROWS or n > _BLOCK or torch.compiler.is_compiling():
            return None
        block = self._block
        current = block is not None and block[0] is self.keys and block[1] is self.counters
        if block is None or not current or block[3] + n > _BLOCK:
            return self._draw(self.counters, _BLOCK), 0
        return block[2], block[3]

    def _mixed_keys(self) -> torch.Tensor:
        """`_mix(keys)`, computed once per keys tensor: every draw starts from it, and a single env's
        step is bound by such small tensor ops."""
        if self._mixed is None or self._mixed[0] is not self.keys:
            self._mixed = (self.keys, _mix(self.keys))
        return self._mixed[1]

    def session_streams(self) -> RowStreams:
        """Streams for starting each row's next session, keyed by the row's session count.

        A pure function of (key, sessions started): a batched env may build fresh sessions for every
        row and keep only the finished ones without moving any row's own stream. Its keys are made once
        per `keys` and `sessions` tensors (a reset asks twice: for the user, then for the state).
        """
        cached = self._session_keys
        if cached is None or cached[0] is not self.keys or cached[1] is not self.sessions:
            cached = (self.keys, self.sessions, _mix(_mix(self.keys ^ _SESSION_LANE) ^ self.sessions))
            self._session_keys = cached
        return RowStreams(cached[2])

    def next_users(self, n_users: int) -> torch.Tensor:
        """[B] the user of each row's next session, uniform over n_users (from `session_streams`)."""
        return _shift_right(self.session_streams().keys, 1) % n_users

    def start_sessions(self, rows: torch.Tensor | None = None) -> None:
        """Count a new session for the rows [B] (bool) that start one, or all rows."""
        self.sessions = self.sessions + (1 if rows is None else rows.long())

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Keys, draw counters and session counts: every future draw is a function of these."""
        return {"keys": self.keys, "counters": self.counters, "sessions": self.sessions}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Restore a `state_dict()` of as many rows (copied onto this device); ValueError otherwise."""
        for name in ("keys", "counters", "sessions"):
            value = state[name]
            if value.shape != self.keys.shape or value.dtype != torch.int64:
                raise ValueError(
                    f"stream {name} must be int64 of shape {tuple(self.keys.shape)}, "
                    f"got {value.dtype} {tuple(value.shape)}"
                )
            setattr(self, name, value.to(self.device, copy=True))
