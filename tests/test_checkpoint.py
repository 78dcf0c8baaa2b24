"""Checkpoints: round trip, every kind of damage named, and writes that never leave half a file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from recgym import checkpoint
from recgym.checkpoint import CheckpointError, atomic_write_bytes, load_checkpoint, save_checkpoint

TENSORS = {"weight": torch.arange(12, dtype=torch.float32).reshape(3, 4), "bias": torch.tensor([1, -2, 3])}
META = {"config": {"dim": 4, "lr": 0.01}, "step": 7}


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    folder = tmp_path / "ckpt"
    save_checkpoint(folder, TENSORS, META)
    return folder


def test_round_trip(saved: Path) -> None:
    tensors, meta = load_checkpoint(saved)
    assert tensors.keys() == TENSORS.keys()
    for name, tensor in TENSORS.items():
        assert torch.equal(tensors[name], tensor) and tensors[name].dtype == tensor.dtype
    assert meta["config"] == META["config"] and meta["step"] == 7
    assert len(meta["sha256"]) == 64 and meta["versions"]["torch"] == torch.__version__
    assert sorted(p.name for p in saved.iterdir()) == ["meta.json", "weights.pt"]


def test_saved_tensors_are_detached_copies_on_cpu(tmp_path: Path) -> None:
    parameter = torch.nn.Parameter(torch.ones(2))
    save_checkpoint(tmp_path, {"p": parameter}, {})
    tensors, _ = load_checkpoint(tmp_path)
    assert not tensors["p"].requires_grad and torch.equal(tensors["p"], torch.ones(2))


def test_flipped_byte_in_weights_is_detected(saved: Path) -> None:
    weights = saved / "weights.pt"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="weights.pt does not match its checksum"):
        load_checkpoint(saved)


def test_truncated_weights_are_detected(saved: Path) -> None:
    weights = saved / "weights.pt"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(saved)


@pytest.mark.parametrize("name", ["meta.json", "weights.pt"])
def test_missing_file_is_named(saved: Path, name: str) -> None:
    (saved / name).unlink()
    with pytest.raises(CheckpointError, match=f"missing {name}"):
        load_checkpoint(saved)


def test_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="missing weights.pt"):
        load_checkpoint(tmp_path / "nowhere")


def test_invalid_json_is_named(saved: Path) -> None:
    (saved / "meta.json").write_text('{"sha256": "abc",')
    with pytest.raises(CheckpointError, match="meta.json is not valid JSON"):
        load_checkpoint(saved)


def test_meta_json_that_is_not_an_object_is_named(saved: Path) -> None:
    (saved / "meta.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match="meta.json"):
        load_checkpoint(saved)


def test_meta_without_checksum_is_rejected(saved: Path) -> None:
    meta = json.loads((saved / "meta.json").read_text())
    del meta["sha256"]
    (saved / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(saved)


CALLED: list[str] = []


def _record_call() -> None:
    CALLED.append("code ran")


class CodeOnLoad:
    """Unpickling this calls `_record_call`: what a hostile checkpoint would do."""

    def __reduce__(self):
        return (_record_call, ())


def write_with_valid_checksum(folder: Path, payload: object) -> None:
    save_checkpoint(folder, {}, {})
    torch.save(payload, folder / "weights.pt")
    meta = json.loads((folder / "meta.json").read_text())
    meta["sha256"] = checkpoint.hashlib.sha256((folder / "weights.pt").read_bytes()).hexdigest()
    (folder / "meta.json").write_text(json.dumps(meta))


def test_weights_that_would_run_code_are_refused_without_running_it(tmp_path: Path) -> None:
    CALLED.clear()
    write_with_valid_checksum(tmp_path, {"x": CodeOnLoad()})
    with pytest.raises(CheckpointError, match="weights.pt cannot be loaded"):
        load_checkpoint(tmp_path)
    assert CALLED == []


def test_unreadable_weights_with_a_matching_checksum_are_named(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, {}, {})
    (tmp_path / "weights.pt").write_bytes(b"not a torch file")
    meta = json.loads((tmp_path / "meta.json").read_text())
    meta["sha256"] = checkpoint.hashlib.sha256(b"not a torch file").hexdigest()
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="cannot be loaded"):
        load_checkpoint(tmp_path)


# --- atomic writes ------------------------------------------------------------------------------


def test_atomic_write_replaces_the_content_and_creates_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "file.bin"
    atomic_write_bytes(path, b"first")
    atomic_write_bytes(path, b"second")
    assert path.read_bytes() == b"second"
    assert os.listdir(path.parent) == ["file.bin"]


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch, failing) -> None:
    path = tmp_path / "file.bin"
    path.write_bytes(b"old content")

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(path, b"new content that never lands")
    monkeypatch.undo()
    assert path.read_bytes() == b"old content"
    assert os.listdir(tmp_path) == ["file.bin"]


def test_interrupted_save_is_never_loaded_as_a_mix(saved: Path, monkeypatch) -> None:
    real_replace = os.replace

    def replace_weights_only(src, dst):
        if Path(dst).name == "meta.json":
            raise OSError("crash before meta.json")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_weights_only)
    with pytest.raises(OSError, match="crash"):
        save_checkpoint(saved, {"weight": torch.zeros(3, 4)}, {"step": 8})
    monkeypatch.undo()
    assert sorted(p.name for p in saved.iterdir()) == ["meta.json", "weights.pt"]
    # the new weights sit beside the old meta.json: the checksum catches the mismatch
    with pytest.raises(CheckpointError, match="checksum"):
        load_checkpoint(saved)
