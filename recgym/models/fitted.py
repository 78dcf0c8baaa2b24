"""Logs in, a fitted and calibrated user model out, cached on disk by what produced it.

`fit_user_model` splits the log (`UserModelConfig.split`: leave-last-out, random leave-one-out, or
none), holds a random share of the training rows out for calibration, trains the chosen model of the
zoo with early stopping on the validation split, calibrates its click probability on one half of the
held-out rows and measures that probability (AUC, log-loss, ECE) on the other half, and ranks the test
items under both protocols with the training and validation history as context. The result is saved
under a key derived from the log's content and the config, so a second run loads it instead of
refitting. The returned model knows every user by the whole log, which is where a simulated session
starts.

The cache can never cost a run its fit: an entry that is corrupt, edited, or written by another version
of recgym (`USER_MODEL_FORMAT`) is refitted with a warning and overwritten; a cache folder that cannot
be written is a warning and the run goes on without caching; an entry is written to a temporary
folder and renamed into place, so a failed save leaves no partial entry.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import numpy as np
import pandas as pd
import torch
import tyro

from recgym.data.interactions import InteractionLog
from recgym.data.sampling import sample_negatives, user_item_sets
from recgym.data.splits import Split, leave_last_out, random_leave_one_out, random_positive_per_user
from recgym.models.calibration import Calibration, fit_platt, fit_rating_map
from recgym.models.contract import UserModel, users_per_block
from recgym.models.metrics import evaluate_ranking
from recgym.models.neumf import NeuMFConfig
from recgym.models.probability_metrics import auc, expected_calibration_error, log_loss
from recgym.models.training import TrainConfig, fit
from recgym.models.zoo import ArchitectureChoice, ModelName, build_model, model_name
from recgym.runs.checkpoint import CheckpointError, check_cache_dir, load_checkpoint, replace_checkpoint

SplitChoice = Literal["auto", "leave-last-out", "random", "none"]
SPLITS: tuple[str, ...] = get_args(SplitChoice)


@dataclass(frozen=True)
class UserModelConfig:
    """Everything that decides a fitted user model (and so its cache key)."""

    architecture: Annotated[ArchitectureChoice, tyro.conf.arg(name="model")] = field(
        default_factory=NeuMFConfig
    )
    """Which model of the zoo to fit, with its architecture (`model:sasrec --user-model.model.dim 64` on
    the command line; in Python, `UserModelConfig(SASRecConfig(dim=64))`)."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """Optimisation settings."""
    split: SplitChoice = "auto"
    """Which positives of each user are held out of the fit. "leave-last-out": the latest is the test
    item and the one before it the validation item (the papers' protocol); "random": a random positive
    is the test item and another the validation item, drawn with `train.seed`; "none": every row
    trains, early stopping ranks one random training positive per user, and there are no test metrics;
    "auto": leave-last-out for a timed log, and random, with a warning, for an untimed one (whose order
    is the file's, not time)."""
    calibration_fraction: float = 0.1
    """Share of training rows held out to calibrate the click probability, for logs with impressions
    (see `train_user_model`); with split "none", the share of rows (held out of nothing) it is fitted on."""
    calibration_negatives: int = 4
    """Unchosen items added as non-clicks per calibration row when the log records no impressions."""

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if not 0.0 < self.calibration_fraction < 0.5:
            raise ValueError(f"calibration_fraction must be in (0, 0.5), got {self.calibration_fraction}")
        model_name(self.architecture)  # TypeError for anything that is no model's architecture

    @property
    def model(self) -> ModelName:
        """The chosen model's name in the zoo ("neumf", "sasrec", ...)."""
        return model_name(self.architecture)

    def key_fields(self) -> dict[str, Any]:
        """What decides the fitted model: its name, architecture and training (the layout cache keys
        have had since the zoo began, so fits cached by earlier versions stay valid)."""
        fields = {key: value for key, value in asdict(self).items() if key != "architecture"}
        return {"model": self.model, self.model: asdict(self.architecture)} | fields


TABLE_LIMIT = 50_000_000
"""Largest users x items score table kept in memory (200 MB of float32)."""


@dataclass
class FittedUserModel:
    """A trained model with its calibration, the config that made it and its measured quality."""

    model: UserModel
    calibration: Calibration
    config: UserModelConfig
    metrics: dict[str, Any]
    fit_report: dict[str, Any]
    _tables: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)

    @torch.no_grad()
    def score_table(self, device: str | torch.device = "cpu") -> torch.Tensor | None:
        """Raw logits [n_users, n_items] of every user for every item, computed once per device, so
        that simulators and greedy policies look scores up instead of re-running the model; None when
        the table would exceed `TABLE_LIMIT` entries."""
        if self.n_users * self.n_items > TABLE_LIMIT:
            return None
        key = str(torch.device(device))
        if key not in self._tables:
            model = self.model.to(device).eval()
            users = torch.arange(self.n_users, device=device)
            self._tables[key] = torch.cat(
                [model.score_all(chunk) for chunk in users.split(users_per_block(self.n_items))]
            )
        return self._tables[key]

    @property
    def n_users(self) -> int:
        return self.model.n_users

    @property
    def n_items(self) -> int:
        return self.model.n_items

    def scorer(self, device: str | torch.device = "cpu") -> Callable[[torch.Tensor], torch.Tensor]:
        """Raw logits [B, n_items] of users [B]: a table lookup where the table fits, else the model."""
        table = self.score_table(device)
        return self.model.score_all if table is None else table.__getitem__

    @torch.no_grad()
    def click_logits(self, users: torch.Tensor) -> torch.Tensor:
        """Calibrated click logits [B, n_items] of users [B]."""
        return self.calibration.logit(self.model.score_all(users))


def log_fingerprint(log: InteractionLog) -> str:
    """SHA-256 of a log's rows (each column in its own dtype, so ids and nanosecond times beyond 2^53
    stay distinct), its raw ids, its feedback type and its feature tables: the data part of the cache
    key."""
    digest = hashlib.sha256()
    for column in log.frame.columns:
        digest.update(np.ascontiguousarray(log.frame[column].to_numpy()).tobytes())
    for ids in (log.user_ids, log.item_ids):
        digest.update("\x1f".join(map(str, ids.tolist())).encode())
    digest.update(f"{log.feedback}{log.rating_range}{log.n_users}{log.n_items}".encode())
    for what, table in (("users", log.user_features), ("items", log.item_features)):
        if table is not None:  # a log without features keeps the key it always had
            digest.update(f"{what} features {table.fingerprint()}".encode())
    return digest.hexdigest()


def chosen_split(log: InteractionLog, config: UserModelConfig, warn: bool = False) -> str:
    """The split `config.split` means for log: "auto" is leave-last-out for a timed log, else random.

    :param warn: warn when "auto" picks the random split, saying why and how to choose.
    """
    if config.split != "auto":
        return config.split
    if log.timed:
        return "leave-last-out"
    if warn:
        warnings.warn(
            f"{log.name} has no time column, so each user's last rows are the file's last, not the "
            "latest: the user model holds out a random positive per user instead (split 'random'). "
            "Set UserModelConfig.split to 'random' to keep this without a warning, to 'leave-last-out' "
            "if the file lists each user's rows in time order, or to 'none' to fit on every interaction",
            stacklevel=3,
        )
    return "random"


def cache_key(log: InteractionLog, config: UserModelConfig) -> str:
    """The cache entry of (log, config); "auto" is keyed as the split it picks for the log."""
    fields = config.key_fields() | {"split": chosen_split(log, config)}
    payload = json.dumps({"data": log_fingerprint(log), "config": fields}, sort_keys=True, default=str)
    return f"{config.model}-" + hashlib.sha256(payload.encode()).hexdigest()[:16]


def _calibration_rows(
    log: InteractionLog, held: Any, config: UserModelConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Users, items and click labels of the held-out rows (plus unseen items as non-clicks if needed)."""
    users, items = held["user"].to_numpy(), held["item"].to_numpy()
    labels = (held["rating"].to_numpy() >= log.like_threshold).astype(np.float32)
    if log.has_explicit_negatives or config.calibration_negatives == 0:
        return users, items, labels
    unseen = sample_negatives(users, config.calibration_negatives, log.n_items, user_item_sets(log), rng)
    return (
        np.concatenate([users, np.repeat(users, config.calibration_negatives)]),
        np.concatenate([items, unseen.reshape(-1)]),
        np.concatenate([labels, np.zeros(unseen.size, dtype=np.float32)]),
    )


def _calibrate(model: UserModel, log: InteractionLog, held: Any, config: UserModelConfig, rng) -> Calibration:
    """Platt scaling of the click probability and a rating map, both fitted on held rows."""
    users, items, labels = _calibration_rows(log, held, config, rng)
    with torch.no_grad():
        raw = model.score(torch.tensor(users), torch.tensor(items))
    slope, intercept = fit_platt(raw, torch.tensor(labels))
    liked = held["rating"].to_numpy() >= log.like_threshold
    rated_raw = raw[: len(held)][torch.tensor(liked)]
    rated = torch.tensor(held["rating"].to_numpy()[liked]).float()
    rating_slope, rating_intercept = fit_rating_map(rated_raw, rated)
    return Calibration(slope, intercept, rating_slope, rating_intercept, log.rating_range)


def probability_quality(
    model: UserModel, calibration: Calibration, log: InteractionLog, held: Any, config: UserModelConfig, rng
) -> dict[str, float]:
    """AUC, log-loss and ECE of the calibrated click probability on held rows unseen by the fit."""
    users, items, labels = _calibration_rows(log, held, config, rng)
    with torch.no_grad():
        probability = torch.sigmoid(calibration.logit(model.score(torch.tensor(users), torch.tensor(items))))
    both_classes = labels.min() != labels.max()  # AUC is undefined otherwise
    return {
        "auc": auc(probability, labels) if both_classes else float("nan"),
        "logloss": log_loss(probability, labels),
        "ece": expected_calibration_error(probability, labels),
    }


def train_user_model(
    log: InteractionLog,
    config: UserModelConfig,
    progress: bool = True,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    checkpoint_dir: str | Path | None = None,
) -> FittedUserModel:
    """Split, fit, calibrate and evaluate the configured user model on log (no cache).

    Where the click probability is calibrated and measured depends on the log:
    - with impressions (clicks and non-clicks), on random training rows held out of the fit, half to
      calibrate and half to measure: only a random choice keeps the logged click rate unbiased;
    - with positives only, calibrated on the validation items and measured on the test items (each
      with sampled unchosen items as non-clicks), scored with the history before them as context:
      the user's next interaction, which is what a simulator asks, and no training row is lost.
    With split "none" nothing is held out (`_fit_on_every_row`). The metrics say which split was used
    (`"split"`).
    """
    method = chosen_split(log, config, warn=True)
    rng = np.random.default_rng(config.train.seed)
    if method == "none":
        return _fit_on_every_row(log, config, rng, progress, on_epoch, checkpoint_dir)
    split: Split = leave_last_out(log) if method == "leave-last-out" else random_leave_one_out(log, rng)
    train_frame = split.train.frame
    impressions = log.has_explicit_negatives
    held_mask = rng.random(len(train_frame)) < config.calibration_fraction if impressions else None
    fit_log = split.train if held_mask is None else split.train.with_frame(train_frame[~held_mask])
    model = _new_model(log, config)
    report = fit(
        model,
        fit_log,
        split.valid,
        config.train,
        progress=progress,
        on_epoch=on_epoch,
        checkpoint_dir=checkpoint_dir,
    )  # leaves the context at fit_log
    if impressions:
        held = train_frame[held_mask]
        calibrate_half = rng.random(len(held)) < 0.5
        calibration = _calibrate(model, log, held[calibrate_half], config, rng)
        probability = probability_quality(model, calibration, log, held[~calibrate_half], config, rng)
    else:
        calibration = _calibrate(model, log, split.valid.frame, config, rng)
    known = split.train.with_frame(pd.concat([split.train.frame, split.valid.frame]))
    model.set_context(known)
    if not impressions:
        probability = probability_quality(model, calibration, log, split.test.frame, config, rng)
    ranking = evaluate_ranking(model, known, split.test, seed=config.train.seed)
    metrics = {"split": method} | ranking | probability | {"users_kept_in_train": split.kept_in_train}
    model.set_context(log)
    return FittedUserModel(model, calibration, config, metrics, asdict(report))


def _fit_on_every_row(
    log: InteractionLog,
    config: UserModelConfig,
    rng: np.random.Generator,
    progress: bool,
    on_epoch: Callable[[int, dict[str, float]], None] | None,
    checkpoint_dir: str | Path | None,
) -> FittedUserModel:
    """Split "none": the model trains on every row, early stopping ranks one random positive of each
    user (which stays in training), and the calibration is fitted on a random `calibration_fraction` of
    the rows (with sampled unchosen items as non-clicks where the log records no impressions). Nothing
    was held out, so there is nothing to test: the metrics are `{"split": "none", "test": None}`."""
    valid = random_positive_per_user(log, rng)
    model = _new_model(log, config)
    report = fit(
        model, log, valid, config.train, progress=progress, on_epoch=on_epoch, checkpoint_dir=checkpoint_dir
    )  # leaves the context at log
    size = max(1, round(config.calibration_fraction * len(log)))
    sample = np.sort(rng.choice(len(log), size=size, replace=False))
    calibration = _calibrate(model, log, log.frame.iloc[sample], config, rng)
    metrics: dict[str, Any] = {"split": "none", "test": None}
    return FittedUserModel(model, calibration, config, metrics, asdict(report))


def _new_model(log: InteractionLog, config: UserModelConfig) -> UserModel:
    """The configured model, initialised from `config.train.seed` without touching the global RNG."""
    with torch.random.fork_rng():
        torch.manual_seed(config.train.seed)
        return build_model(config.model, config.architecture, log.n_users, log.n_items)


USER_MODEL_FORMAT = "recgym-user-model/3"
"""The layout of a cached user model's meta.json; an entry of any other layout is refitted."""

_META_LAYOUT: dict[str, Any] = {
    "model": str,
    "n_users": int,
    "n_items": int,
    "data": {"name": str, "fingerprint": str},
    "config": dict,
    "calibration": {
        "slope": float,
        "intercept": float,
        "rating_slope": float,
        "rating_intercept": float,
        "rating_range": (float, float),
    },
    "metrics": {
        "split": str,
        "sampled": {str: float},
        "full": {str: float},
        "n_users": int,
        "auc": float,
        "logloss": float,
        "ece": float,
        "users_kept_in_train": int,
    },
    "fit_report": {
        "epochs": int,
        "best_epoch": int,
        "best_valid_ndcg": float,
        "seconds": float,
        "history": [{str: float}],
    },
    "versions": {str: str},
}
"""What `_load` reads from meta.json: a dict of required keys, `{str: x}` for any keys, `[x]` for a
list of x, a tuple for a list of that length, a type for a value (`float`: any JSON number, `None`:
null). A model fitted with split "none" has `_UNTESTED_METRICS` instead."""

_UNTESTED_METRICS: dict[str, Any] = {"split": str, "test": None}
"""The metrics of a model fitted on every row (split "none"): nothing held out, nothing tested."""


def _check_layout(value: Any, layout: Any, where: str) -> None:
    """Raise `ValueError` naming the first field of value that does not follow layout."""
    if isinstance(layout, dict) and list(layout) == [str]:
        if not isinstance(value, dict):
            raise ValueError(f"{where} must be an object, got {type(value).__name__}")
        for key, item in value.items():
            _check_layout(item, layout[str], f"{where}.{key}")
    elif isinstance(layout, dict):
        if not isinstance(value, dict):
            raise ValueError(f"{where} must be an object, got {type(value).__name__}")
        for key, item_layout in layout.items():
            if key not in value:
                raise ValueError(f"{where} has no field {key!r}")
            _check_layout(value[key], item_layout, f"{where}.{key}")
    elif isinstance(layout, list | tuple):
        if not isinstance(value, list):
            raise ValueError(f"{where} must be a list, got {type(value).__name__}")
        if isinstance(layout, tuple) and len(value) != len(layout):
            raise ValueError(f"{where} must hold {len(layout)} values, got {len(value)}")
        for n, item in enumerate(value):
            _check_layout(item, layout[n] if isinstance(layout, tuple) else layout[0], f"{where}[{n}]")
    elif layout is None:
        if value is not None:
            raise ValueError(f"{where} must be null, got {type(value).__name__}")
    elif isinstance(value, bool) or not isinstance(value, (int, float) if layout is float else layout):
        kind = "a number" if layout is float else f"a {layout.__name__}"  # JSON's true is not a number
        raise ValueError(f"{where} must be {kind}, got {type(value).__name__}")


def _save(folder: Path, fitted: FittedUserModel, log: InteractionLog) -> None:
    meta = {
        "format": USER_MODEL_FORMAT,
        "model": fitted.config.model,
        "n_users": fitted.n_users,
        "n_items": fitted.n_items,
        "data": {"name": log.name, "fingerprint": log_fingerprint(log)},
        "config": asdict(fitted.config),
        "calibration": fitted.calibration.to_dict(),
        "metrics": fitted.metrics,
        "fit_report": fitted.fit_report,
    }
    replace_checkpoint(folder, fitted.model.state_dict(), meta)


def _load(folder: Path, log: InteractionLog, config: UserModelConfig) -> FittedUserModel:
    """The cached model in folder; `CheckpointError` for anything but a whole, unchanged entry of
    `USER_MODEL_FORMAT` fitted for this log's sizes and config's model."""
    tensors, meta = load_checkpoint(folder, verify_meta=True)
    if meta.get("format") != USER_MODEL_FORMAT:
        raise CheckpointError(
            f"checkpoint {folder}: meta.json has format {meta.get('format')!r}, not {USER_MODEL_FORMAT!r}"
            " (written by another version of recgym)"
        )
    metrics = meta.get("metrics")
    untested = isinstance(metrics, dict) and metrics.get("split") == "none"
    try:
        _check_layout(meta, _META_LAYOUT | ({"metrics": _UNTESTED_METRICS} if untested else {}), "meta")
    except ValueError as error:
        raise CheckpointError(f"checkpoint {folder}: meta.json field {error}") from error
    if meta["metrics"]["split"] != chosen_split(log, config):
        raise CheckpointError(
            f"checkpoint {folder}: fitted with split {meta['metrics']['split']!r}, "
            f"not {chosen_split(log, config)!r}"
        )
    if (meta["n_users"], meta["n_items"]) != (log.n_users, log.n_items):
        raise CheckpointError(
            f"checkpoint {folder}: fitted for {meta['n_users']} users x {meta['n_items']} items, "
            f"the log has {log.n_users} x {log.n_items}"
        )
    if meta["model"] != config.model:
        raise CheckpointError(f"checkpoint {folder}: holds a {meta['model']} model, not {config.model}")
    model = build_model(config.model, config.architecture, log.n_users, log.n_items)
    try:
        model.load_state_dict(tensors)
    except RuntimeError as error:
        raise CheckpointError(
            f"checkpoint {folder}: weights do not fit the model config ({error})"
        ) from error
    model.eval()
    model.set_context(log)
    stored = meta["calibration"]
    calibration = Calibration(
        **{name: float(stored[name]) for name in ("slope", "intercept", "rating_slope", "rating_intercept")},
        rating_range=(float(stored["rating_range"][0]), float(stored["rating_range"][1])),
    )
    return FittedUserModel(model, calibration, config, meta["metrics"], meta["fit_report"])


def fit_user_model(
    log: InteractionLog,
    config: UserModelConfig | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    on_epoch: Callable[[int, dict[str, float]], None] | None = None,
    checkpoint_dir: str | Path | None = None,
    refit: bool = False,
) -> FittedUserModel:
    """Load the fitted model for (log, config) from cache_dir, or fit it and save it there.

    A cache_dir that exists and is not a folder raises `ValueError` before any fitting; an unusable
    entry is refitted, and a cache that cannot be written skipped, each with a warning.

    `on_epoch(epoch, row)` sees each epoch's loss and validation metrics; `checkpoint_dir` receives
    the best epoch's weights while training runs. `refit` fits even when cache_dir holds the model,
    and replaces the entry (`experiments.fit_user_model` fills the cache the runs read).
    """
    config = config or UserModelConfig()
    if cache_dir is None:
        return train_user_model(log, config, progress, on_epoch, checkpoint_dir)
    check_cache_dir(cache_dir, "the cache_dir argument", write=False)
    folder = Path(cache_dir) / cache_key(log, config)
    if not refit and (folder.exists() or folder.is_symlink()):
        try:
            loaded = _load(folder, log, config)
        except CheckpointError as error:
            warnings.warn(f"refitting: cached user model unusable ({error})", stacklevel=2)
        else:
            chosen_split(log, config, warn=True)  # a cached fit is no reason to stay silent about it
            return loaded
    writable = check_cache_dir(cache_dir, "the cache_dir argument")  # before the fit, not after it
    fitted = train_user_model(log, config, progress, on_epoch, checkpoint_dir)
    if writable:
        try:
            _save(folder, fitted, log)
        except OSError as error:
            warnings.warn(f"fitted user model not cached: cannot write {folder} ({error})", stacklevel=2)
    return fitted
