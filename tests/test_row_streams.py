"""RowStreams: a row's draws depend on its key and count alone, whatever the batch and however drawn."""

from __future__ import annotations

import pytest
import torch

from recgym.random import RowStreams

SHAPES = [(), (), (3,), (), (20,), (), (2, 2), (), (16,), (1,), ()]


@pytest.mark.parametrize("rows", [1, 3])
def test_small_batches_draw_what_the_same_rows_of_a_large_batch_draw(rows: int) -> None:
    small = RowStreams.from_seed(7, rows)
    large = RowStreams(torch.cat([small.keys, RowStreams.from_seed(8, 97).keys]))
    for shape in SHAPES:
        assert torch.equal(small.uniform(*shape), large.uniform(*shape)[:rows])
    assert torch.equal(small.counters, large.counters[:rows])


def test_a_restored_state_replays_its_draws() -> None:
    streams = RowStreams.from_seed(3, 2)
    streams.uniform()
    saved = {name: value.clone() for name, value in streams.state_dict().items()}
    first = [streams.uniform(*shape) for shape in SHAPES]
    streams.load_state_dict(saved)
    assert all(torch.equal(streams.uniform(*shape), draw) for shape, draw in zip(SHAPES, first, strict=True))


def test_counters_set_from_outside_are_followed() -> None:
    streams = RowStreams.from_seed(3, 1)
    large = RowStreams(torch.cat([streams.keys, RowStreams.from_seed(8, 97).keys]))
    streams.uniform()
    streams.counters, large.counters = torch.tensor([40]), torch.full((98,), 40)
    assert torch.equal(streams.uniform(), large.uniform()[:1])
