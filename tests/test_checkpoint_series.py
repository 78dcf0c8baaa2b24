"""Nested state through a checkpoint, and series of checkpoints whose LATEST is always complete."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from recgym.runs.checkpoint import CheckpointError, load_checkpoint
from recgym.runs.checkpoint_series import latest_checkpoint, latest_complete_checkpoint, save_in_series
from recgym.runs.tensor_tree import join_tree, split_tree


def test_a_nested_state_round_trips_with_int_keys_tuples_and_plain_values() -> None:
    adam = torch.optim.Adam([torch.nn.Parameter(torch.ones(2))])
    adam.param_groups[0]["params"][0].grad = torch.ones(2)
    adam.step()
    state = {
        "optimizer": adam.state_dict(),
        "run": {"step": 3, "recent": [{"x": torch.arange(3)}], "none": None},
    }
    skeleton, tensors = split_tree(state)
    assert set(tensors) == {
        "optimizer.state.0.step",
        "optimizer.state.0.exp_avg",
        "optimizer.state.0.exp_avg_sq",
        "run.recent.0.x",
    }
    back = join_tree(skeleton, tensors)
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)  # a tuple again
    assert list(back["optimizer"]["state"]) == [0]  # int keys again, as optimizers need them
    assert torch.equal(back["run"]["recent"][0]["x"], torch.arange(3)) and back["run"]["none"] is None


def test_objects_are_refused_by_path() -> None:
    with pytest.raises(TypeError, match="run.keys: cannot store a ndarray"):
        split_tree({"run": {"keys": np.zeros(3)}})


def test_a_missing_tensor_is_named() -> None:
    skeleton, _ = split_tree({"w": torch.ones(1)})
    with pytest.raises(KeyError, match="no tensor 'w'"):
        join_tree(skeleton, {})


def test_the_series_keeps_the_latest_and_the_previous(tmp_path: Path) -> None:
    for step in (10, 20, 30):
        save_in_series(tmp_path, step, {"w": torch.tensor([step])}, {"step": step})
    assert latest_checkpoint(tmp_path).name == "step-000000000030"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["LATEST", "step-000000000020", "step-000000000030"]
    tensors, meta = load_checkpoint(latest_checkpoint(tmp_path))
    assert meta["step"] == 30 and tensors["w"].item() == 30


def test_saving_the_same_step_again_never_overwrites_the_latest(tmp_path: Path) -> None:
    save_in_series(tmp_path, 10, {"w": torch.tensor([1])}, {})
    again = save_in_series(tmp_path, 10, {"w": torch.tensor([2])}, {})
    assert again.name == "step-000000000010-1" and latest_checkpoint(tmp_path) == again


def test_a_crash_while_saving_leaves_latest_on_a_complete_checkpoint(tmp_path: Path, monkeypatch) -> None:
    save_in_series(tmp_path, 10, {"w": torch.tensor([1])}, {"step": 10})
    real_replace = os.replace

    def crash_on_meta(src, dst):
        if Path(dst).name == "meta.json":
            raise OSError("No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_meta)
    with pytest.raises(OSError, match="No space left"):
        save_in_series(tmp_path, 20, {"w": torch.tensor([2])}, {"step": 20})
    monkeypatch.undo()
    assert load_checkpoint(latest_checkpoint(tmp_path))[1]["step"] == 10


def test_no_or_a_strange_latest_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint in .*: it has no LATEST file"):
        latest_checkpoint(tmp_path)
    (tmp_path / "LATEST").write_text("../../etc\n")
    with pytest.raises(CheckpointError, match="must name a step-\\* folder"):
        latest_checkpoint(tmp_path)


def damage(folder: Path) -> None:
    """Truncate a checkpoint's weights, as a disk error after the save would."""
    weights = folder / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:50])


def test_the_latest_complete_checkpoint_is_latest_when_it_verifies(tmp_path: Path) -> None:
    for step in (10, 20):
        save_in_series(tmp_path, step, {"w": torch.tensor([step])}, {"step": step})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert latest_complete_checkpoint(tmp_path) == latest_checkpoint(tmp_path)


@pytest.mark.parametrize(
    "how",
    [
        damage,
        lambda folder: (folder / "meta.json").unlink(),
        lambda folder: (folder / "meta.json").write_bytes(b'{"sha256": "\xff"}'),
    ],
    ids=["truncated-weights", "no-meta", "meta-not-utf8"],
)
def test_a_damaged_latest_falls_back_to_the_previous_with_a_warning(tmp_path: Path, how) -> None:
    for step in (10, 20):
        save_in_series(tmp_path, step, {"w": torch.tensor([step])}, {"step": step})
    latest, previous = tmp_path / "step-000000000020", tmp_path / "step-000000000010"
    how(latest)
    with pytest.warns(
        UserWarning, match=f"{re.escape(str(latest))} is damaged .*falling back to {re.escape(str(previous))}"
    ):
        folder = latest_complete_checkpoint(tmp_path)
    assert folder == previous and load_checkpoint(folder)[1]["step"] == 10


def test_a_damaged_latest_file_falls_back_to_the_newest_complete_folder(tmp_path: Path) -> None:
    save_in_series(tmp_path, 10, {"w": torch.tensor([1])}, {})
    save_in_series(tmp_path, 10, {"w": torch.tensor([2])}, {})  # step-...10-1, newer than step-...10
    (tmp_path / "LATEST").write_bytes(b"step-\xff\n")
    with pytest.raises(CheckpointError, match="LATEST is not UTF-8"):
        latest_checkpoint(tmp_path)
    with pytest.warns(UserWarning, match="LATEST is not UTF-8.*falling back to .*step-000000000010-1"):
        assert latest_complete_checkpoint(tmp_path).name == "step-000000000010-1"


def test_a_series_without_a_complete_checkpoint_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=f"no complete checkpoint in {re.escape(str(tmp_path))}"):
        latest_complete_checkpoint(tmp_path)
    for step in (10, 20):
        save_in_series(tmp_path, step, {"w": torch.tensor([step])}, {})
        damage(tmp_path / f"step-{step:012d}")
    with pytest.raises(
        CheckpointError,
        match=f"no complete checkpoint in {re.escape(str(tmp_path))}.*step-000000000010.*checksum",
    ):
        latest_complete_checkpoint(tmp_path)
