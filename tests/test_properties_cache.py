"""Properties of the user-model cache (docs/ROBUSTNESS.md): whatever damage a cached entry has taken
(bytes inserted into meta.json, fields dropped, renamed or of the wrong JSON type, JSON that is not an
object, weights truncated or flipped, files missing), `fit_user_model` returns the model a fresh fit
gives, warns exactly when the entry's content changed, and the next call loads the repaired entry
without a warning."""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from hypothesis import event, given, settings
from hypothesis import strategies as st

from recgym.data.synthetic import LoggingConfig, generate_logs
from recgym.models.fitted import FittedUserModel, UserModelConfig, cache_key, fit_user_model
from recgym.models.mf import MFConfig
from recgym.models.training import TrainConfig
from recgym.runs.checkpoint import meta_checksum
from recgym.simulators.world import GroundTruthConfig

LOG, _ = generate_logs(
    LoggingConfig(world=GroundTruthConfig(n_users=12, n_items=200, n_topics=2, dim=3), sessions_per_user=3)
)
CONFIG = UserModelConfig(MFConfig(dim=4), train=TrainConfig(epochs=1))
Files = dict[str, bytes | None]  # meta.json and weights.pt's bytes; None for a missing file


@dataclass(frozen=True)
class Damage:
    """What was done to an entry (shown when a case fails) and the function that does it."""

    what: str
    apply: Callable[[Files], Files] = field(repr=False)

    @property
    def kind(self) -> str:
        """The kind of damage, for the statistics: its first word, and whether checksums were updated."""
        return self.what.split()[0].rstrip(":") + (
            " (checksum updated)" if "rehash=True" in self.what else ""
        )


@pytest.fixture(scope="module")
def cached(tmp_path_factory) -> tuple[Path, Files, FittedUserModel]:
    """A cache holding one entry fitted once, that entry's files, and the model they hold."""
    cache = tmp_path_factory.mktemp("cache")
    fitted = fit_user_model(LOG, CONFIG, cache_dir=cache, progress=False)
    entry = cache / cache_key(LOG, CONFIG)
    return cache, {name: (entry / name).read_bytes() for name in ("meta.json", "weights.pt")}, fitted


def parsed(meta: bytes | None) -> str | None:
    """meta.json's content as canonical JSON; None when it is missing or does not parse."""
    try:
        return json.dumps(json.loads(meta.decode("utf-8")), sort_keys=True) if meta is not None else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def field_paths(value: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every path to a field of a JSON object, outer fields first."""
    if not isinstance(value, dict):
        return []
    return [p for key, item in value.items() for p in [(*prefix, key), *field_paths(item, (*prefix, key))]]


def edit_meta(files: Files, edit: Callable[[dict], None], rehash: bool) -> Files:
    """files with edit applied to meta.json's object; with rehash, its checksum updated to match, as
    another version of recgym writing that layout would have it."""
    meta = json.loads(files["meta.json"])
    edit(meta)
    if rehash:
        meta["meta_sha256"] = meta_checksum(meta)
    return files | {"meta.json": json.dumps(meta, indent=2).encode()}


def field_name(choice: int, rehash: bool) -> str:
    """For a case's description: the field a choice picks."""
    return ".".join(read_field(choice)) + ", rehash=True" if rehash else f"#{choice} of the entry's fields"


def read_field(choice: int) -> tuple[str, ...]:
    return list(READ_FIELDS)[choice % len(READ_FIELDS)]


def any_field(meta: dict, choice: int) -> tuple[str, ...]:
    """One of the fields of meta at any depth (the entry's own, so known only once it is fitted)."""
    paths = field_paths(meta)
    return paths[choice % len(paths)]


def parent_of(meta: dict, path: tuple[str, ...]) -> dict:
    for key in path[:-1]:
        meta = meta[key]
    return meta


# The fields `_load` reads, by the kind of JSON value each holds. With their checksum made to match,
# dropping, renaming or mistyping any of them must still be refused. Other fields (inside `config`, the
# keys of `metrics.sampled`) may differ in a consistent entry, so only unchecked edits reach them.
READ_FIELDS: dict[tuple[str, ...], str] = {
    ("format",): "text",
    ("model",): "text",
    ("n_users",): "integer",
    ("n_items",): "integer",
    ("sha256",): "text",
    ("versions",): "object",
    ("data",): "object",
    ("data", "name"): "text",
    ("data", "fingerprint"): "text",
    ("config",): "object",
    ("calibration",): "object",
    **{
        ("calibration", name): "number" for name in ("slope", "intercept", "rating_slope", "rating_intercept")
    },
    ("calibration", "rating_range"): "list",
    ("metrics",): "object",
    ("metrics", "sampled"): "object",
    ("metrics", "full"): "object",
    **{("metrics", name): "number" for name in ("auc", "logloss", "ece")},
    ("metrics", "n_users"): "integer",
    ("metrics", "users_kept_in_train"): "integer",
    ("fit_report",): "object",
    ("fit_report", "epochs"): "integer",
    ("fit_report", "best_epoch"): "integer",
    ("fit_report", "best_valid_ndcg"): "number",
    ("fit_report", "seconds"): "number",
    ("fit_report", "history"): "list",
}
EMPTY = st.just([]) | st.just({})
WRONG_VALUES = {  # JSON values of any other kind
    "text": st.none() | st.booleans() | st.integers() | EMPTY,
    "integer": st.none() | st.booleans() | st.floats() | st.text(max_size=3) | EMPTY,
    "number": st.none() | st.booleans() | st.text(max_size=3) | EMPTY,
    "object": st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3) | st.just([]),
    "list": st.none()
    | st.booleans()
    | st.text(max_size=3)
    | st.just({})
    | st.sampled_from([[1.0], ["a", "b"], [[]]]),
}
ANY_VALUE = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=3) | EMPTY


@st.composite
def inserted_bytes(draw) -> Damage:
    data = draw(st.binary(min_size=1, max_size=6) | st.sampled_from([b" ", b"\n", b"\xff", b"\xc3", b"0"]))
    position = draw(st.integers(0, 10**6))

    def damage(files: Files) -> Files:
        meta = files["meta.json"]
        at = position % (len(meta) + 1)
        return files | {"meta.json": meta[:at] + data + meta[at:]}

    return Damage(f"insert {data!r} at byte {position} (modulo the size)", damage)


@st.composite
def dropped_or_renamed_field(draw) -> Damage:
    rehash, choice = draw(st.booleans()), draw(st.integers(0, 10**6))
    new_name = draw(st.none() | st.text(min_size=1, max_size=4))

    def edit(meta: dict) -> None:
        path = read_field(choice) if rehash else any_field(meta, choice)
        parent = parent_of(meta, path)
        value = parent.pop(path[-1])
        if new_name is not None and new_name != path[-1]:
            parent[new_name] = value

    what = f"{'drop' if new_name is None else f'rename to {new_name!r}'} field {field_name(choice, rehash)}"
    return Damage(what, lambda files: edit_meta(files, edit, rehash))


@st.composite
def mistyped_field(draw) -> Damage:
    rehash, choice = draw(st.booleans()), draw(st.integers(0, 10**6))
    value = draw(WRONG_VALUES[READ_FIELDS[read_field(choice)]] if rehash else ANY_VALUE)

    def edit(meta: dict) -> None:
        path = read_field(choice) if rehash else any_field(meta, choice)
        parent_of(meta, path)[path[-1]] = value

    return Damage(
        f"set field {field_name(choice, rehash)} to {value!r}", lambda files: edit_meta(files, edit, rehash)
    )


NOT_AN_OBJECT = st.none() | st.booleans() | st.integers() | st.text(max_size=5) | st.lists(st.integers())


@st.composite
def not_an_object(draw) -> Damage:
    value = draw(NOT_AN_OBJECT)
    return Damage(
        f"meta.json holds {value!r}", lambda files: files | {"meta.json": json.dumps(value).encode()}
    )


@st.composite
def damaged_weights(draw) -> Damage:
    truncate, position, mask = draw(st.booleans()), draw(st.integers(0, 10**6)), draw(st.integers(1, 255))

    def damage(files: Files) -> Files:
        weights = bytearray(files["weights.pt"])
        if truncate:
            return files | {"weights.pt": bytes(weights[: position % len(weights)])}
        weights[position % len(weights)] ^= mask
        return files | {"weights.pt": bytes(weights)}

    how = f"truncate to {position} bytes" if truncate else f"xor byte {position} with {mask}"
    return Damage(f"weights.pt: {how} (modulo the size)", damage)


MISSING_FILES = st.sampled_from([("meta.json",), ("weights.pt",), ("meta.json", "weights.pt")]).map(
    lambda names: Damage(f"delete {', '.join(names)}", lambda files: files | dict.fromkeys(names))
)


DAMAGES = st.one_of(
    inserted_bytes(),
    dropped_or_renamed_field(),
    mistyped_field(),
    not_an_object(),
    damaged_weights(),
    MISSING_FILES,
)


def assert_same_model(a: FittedUserModel, b: FittedUserModel) -> None:
    for x, y in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert torch.equal(x, y)
    assert a.calibration == b.calibration and json.dumps(a.metrics) == json.dumps(b.metrics)


@settings(max_examples=50)
@given(damage=DAMAGES)
@pytest.mark.slow
def test_any_damaged_entry_is_refitted_with_one_warning_and_repaired(cached, damage: Damage) -> None:
    cache, files, original = cached
    entry = cache / cache_key(LOG, CONFIG)
    damaged = damage.apply(dict(files))
    shutil.rmtree(entry, ignore_errors=True)
    entry.mkdir()
    for name, data in damaged.items():
        if data is not None:
            (entry / name).write_bytes(data)
    changed = damaged["weights.pt"] != files["weights.pt"] or parsed(damaged["meta.json"]) != parsed(
        files["meta.json"]
    )
    event(f"{damage.kind}, {'changed' if changed else 'unchanged'}")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fitted = fit_user_model(LOG, CONFIG, cache_dir=cache, progress=False)
    messages = [str(warning.message) for warning in record]
    assert_same_model(fitted, original)
    if changed:
        assert len(messages) == 1, messages
        assert messages[0].startswith(f"refitting: cached user model unusable (checkpoint {entry}")
    else:  # only whitespace went in between the JSON's tokens: the entry is as it was
        assert messages == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_same_model(fit_user_model(LOG, CONFIG, cache_dir=cache, progress=False), original)
