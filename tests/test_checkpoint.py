"""Checkpoints: round trip, every kind of damage named, and writes that never leave half a file."""

from __future__ import annotations

import errno
import json
import os
import re
from pathlib import Path

import pytest
import torch

from recgym.runs import checkpoint
from recgym.runs.checkpoint import (
    CheckpointError,
    atomic_write_bytes,
    check_cache_dir,
    load_checkpoint,
    replace_checkpoint,
    save_checkpoint,
)

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


# --- unreadable metadata, payloads that are not tensors -----------------------------------------


def test_meta_json_that_is_not_utf8_is_named(saved: Path) -> None:
    meta = saved / "meta.json"
    meta.write_bytes(meta.read_bytes().replace(b'"step"', b'"st\xffep"'))
    with pytest.raises(CheckpointError, match=f"{re.escape(str(saved))}.*meta.json is not UTF-8"):
        load_checkpoint(saved)


def test_meta_json_nested_too_deep_is_named(saved: Path) -> None:
    (saved / "meta.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CheckpointError, match="meta.json"):
        load_checkpoint(saved)


@pytest.mark.parametrize("payload", [torch.ones(3), [torch.ones(3)], {"w": 3}, {1: torch.ones(1)}])
def test_weights_that_are_not_named_tensors_are_named(tmp_path: Path, payload: object) -> None:
    write_with_valid_checksum(tmp_path, payload)
    with pytest.raises(CheckpointError, match="weights.pt must hold a dict of named tensors"):
        load_checkpoint(tmp_path)


def test_verify_meta_catches_a_changed_value_that_is_still_json(saved: Path) -> None:
    meta = saved / "meta.json"
    meta.write_text(meta.read_text().replace('"step": 7', '"step": 8'))
    assert load_checkpoint(saved)[1]["step"] == 8  # the weights' checksum alone does not see it
    with pytest.raises(CheckpointError, match="meta.json does not match its checksum"):
        load_checkpoint(saved, verify_meta=True)


def test_verify_meta_requires_the_meta_checksum(saved: Path) -> None:
    meta = json.loads((saved / "meta.json").read_text())
    del meta["meta_sha256"]
    (saved / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="meta.json has no meta_sha256"):
        load_checkpoint(saved, verify_meta=True)


def test_verify_meta_accepts_what_was_saved(saved: Path) -> None:
    tensors, meta = load_checkpoint(saved, verify_meta=True)
    assert meta["config"] == META["config"] and torch.equal(tensors["bias"], TENSORS["bias"])


# --- permissions follow the umask -----------------------------------------------------------------


@pytest.fixture
def umask():
    """Set the process umask for one test and restore it."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_atomic_writes_respect_the_umask(tmp_path: Path, umask, mask: int) -> None:
    umask(mask)
    path = tmp_path / "file.bin"
    atomic_write_bytes(path, b"data")
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
    assert checkpoint.current_umask() == mask


def test_umask_fallback_without_proc(monkeypatch, umask) -> None:
    umask(0o027)
    monkeypatch.setattr(checkpoint, "PROC_STATUS", Path("/nonexistent/status"))
    assert checkpoint.current_umask() == 0o027
    assert os.umask(0o027) == 0o027  # left as it was


# --- a checkpoint folder replaced whole -----------------------------------------------------------


def test_replace_checkpoint_swaps_the_folder_whole(saved: Path, umask) -> None:
    umask(0o022)
    (saved / "stale.txt").write_text("from an older save")
    replace_checkpoint(saved, {"weight": torch.zeros(2)}, {"step": 9})
    tensors, meta = load_checkpoint(saved, verify_meta=True)
    assert meta["step"] == 9 and torch.equal(tensors["weight"], torch.zeros(2))
    assert sorted(p.name for p in saved.iterdir()) == ["meta.json", "weights.pt"]
    assert os.listdir(saved.parent) == ["ckpt"]
    assert saved.stat().st_mode & 0o777 == 0o755  # not mkdtemp's 0700
    assert (saved / "meta.json").stat().st_mode & 0o777 == 0o644


def test_replace_checkpoint_over_a_file(tmp_path: Path) -> None:
    (tmp_path / "entry").write_text("not a folder")
    replace_checkpoint(tmp_path / "entry", {"w": torch.ones(1)}, {})
    assert load_checkpoint(tmp_path / "entry")[0]["w"].item() == 1.0
    assert os.listdir(tmp_path) == ["entry"]


@pytest.mark.parametrize("existing", [True, False])
def test_a_failed_replace_leaves_the_old_folder_and_no_temporary(
    tmp_path: Path, monkeypatch, existing: bool
) -> None:
    folder = tmp_path / "ckpt"
    if existing:
        save_checkpoint(folder, TENSORS, META)

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        replace_checkpoint(folder, {"w": torch.ones(1)}, {"step": 8})
    monkeypatch.undo()
    assert os.listdir(tmp_path) == (["ckpt"] if existing else [])
    if existing:
        assert load_checkpoint(folder)[1]["step"] == 7


# --- the cache folder checked before any work -----------------------------------------------------


def test_a_cache_path_that_is_a_file_is_named_with_its_source(tmp_path: Path) -> None:
    path = tmp_path / "cache"
    path.write_text("")
    with pytest.raises(
        ValueError,
        match=f"cache folder {re.escape(str(path))} \\(from the cache_dir argument\\).*not a folder",
    ):
        check_cache_dir(path, "the cache_dir argument")
    with pytest.raises(
        ValueError,
        match=f"{re.escape(str(path / 'below'))} \\(from RECGYM_CACHE\\).*{re.escape(str(path))} is a file",
    ):
        check_cache_dir(path / "below", "RECGYM_CACHE", write=False)


def test_a_missing_cache_folder_is_created_when_it_will_be_written(tmp_path: Path) -> None:
    assert check_cache_dir(tmp_path / "a" / "b", "x", write=False) and not (tmp_path / "a").exists()
    assert check_cache_dir(tmp_path / "a" / "b", "x")
    assert os.listdir(tmp_path / "a" / "b") == []  # the probe is gone


@pytest.mark.parametrize("code", [errno.EROFS, errno.EACCES, errno.ENOSPC])
def test_a_cache_that_cannot_be_written_is_one_warning(tmp_path: Path, monkeypatch, code: int) -> None:
    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(checkpoint.tempfile, "mkdtemp", refuse)
    with pytest.warns(
        UserWarning,
        match=f"cache folder {re.escape(str(tmp_path))} \\(from RECGYM_CACHE\\) cannot be written",
    ) as record:
        assert not check_cache_dir(tmp_path, "RECGYM_CACHE")
    assert len(record) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_cache_folder_is_one_warning(tmp_path: Path) -> None:
    tmp_path.chmod(0o555)
    try:
        with pytest.warns(UserWarning, match="cannot be written"):
            assert not check_cache_dir(tmp_path, "the cache_dir argument")
    finally:
        tmp_path.chmod(0o755)
