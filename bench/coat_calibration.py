"""Are the user models' like probabilities right on items users did not choose? Coat's random-exposure test.

    python bench/coat_calibration.py --path ../shared/data/coat --out bench/results/coat_calibration.json

Each user model is fitted (and calibrated, by `fit_user_model`) on Coat's self-selected ratings, then
scored on Coat's test ratings of items shown at random, where like = rating >= 4. Those are the
exposures a simulator's recommendations create, and the ones a self-selected log cannot calibrate.
The test users are split in two halves (seeded): temperature scaling and isotonic regression are
fitted on the calibration half, and every metric is measured on the evaluation half.

Two training targets (`--targets`) read the same train ratings differently:
- `chosen`: the rating log as it is. Every rated row is a positive (`InteractionLog.positives()`), so
  the models learn which coats a user chooses to rate, liked or not.
- `likes`: the ratings as a click log (`InteractionLog.as_likes`): rating >= 4 is a click, a lower rating an
  impression that was not clicked. The pointwise models (NeuMF, MF, AutoRec) then train on the liked
  items against the disliked ones as explicit negatives plus sampled unseen items; the sequence
  models (GRU4Rec, Caser, SASRec) train on, and read as context, the sequence of liked items only.

Rows: {"model", "target", "calibration", "auc", "user_auc", "n_auc_users", "log_loss", "ece",
"mean_predicted", "base_rate", "n"} with `calibration` one of `as-fitted` (the model's own calibrated
probability), `temperature` (its calibrated logit divided by T), `temperature+bias` (logit / T + b) and
`isotonic` (a monotone map of its probability). `auc` is global over the evaluation rows; `user_auc`
is the mean AUC within each evaluation user having both a like and a dislike (`n_auc_users` of them),
which a model cannot raise by knowing only which users like more.

Two rows are not learned. `base-rate` (target `none`) predicts the calibration half's like rate for
everyone: the ECE and log-loss a model must beat to know more than how often users like a coat. The
two halves' like rates differ (users differ), which alone leaves that row an ECE of their difference.
`user+item like rate` (target `likes`) adds smoothed per-user and per-item like rates of the train
ratings as logit offsets (`like_rate_logits`) and goes through the same recalibrations: what simple
counting of the train ratings achieves. The JSON also holds the fitted T and b, each fit's epochs and
the reliability tables behind the figure.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Literal

import numpy as np
import pandas as pd
import torch
import tyro
from matplotlib.figure import Figure

from recgym.cache_folder import cache_folder
from recgym.data.coat import CoatData, load_coat
from recgym.data.interactions import InteractionLog
from recgym.models.fitted import FittedUserModel, UserModelConfig, fit_user_model
from recgym.models.probability_metrics import (
    auc,
    expected_calibration_error,
    fit_isotonic,
    fit_temperature,
    log_loss,
    reliability_table,
)
from recgym.models.training import TrainConfig
from recgym.models.zoo import MODEL_NAMES, ModelName, default_architecture
from recgym.runs.checkpoint import atomic_write_bytes, atomic_write_json

Target = Literal["chosen", "likes"]
LIKE_RATING = 4.0
VARIANTS = ("as-fitted", "temperature", "temperature+bias", "isotonic")
BASELINE = "user+item like rate"


@dataclass
class Args:
    """Coat calibration benchmark settings."""

    path: str = "../shared/data/coat"
    """Folder holding Coat's train.ascii and test.ascii."""
    out: str = "bench/results/coat_calibration.json"
    """JSON file for the rows."""
    figure: str = "docs/figures/coat_reliability.png"
    """Reliability diagram: one row of panels per target, one panel per model."""
    models: tuple[ModelName, ...] = MODEL_NAMES
    """User models to fit and measure (`UserModelConfig.model`)."""
    targets: tuple[Target, ...] = ("chosen", "likes")
    """What the models learn from the train ratings: every rated item (`chosen`) or liked items against
    disliked ones (`likes`)."""
    epochs: int | None = None
    """Most training epochs per model (default: `TrainConfig.epochs`, with early stopping)."""
    smoothing: float = 5.0
    """Pseudo-ratings at the global train like rate added to each user's and each item's ratings by the
    `user+item like rate` baseline."""
    seed: int = 0
    """Seed of the split of test users into calibration and evaluation halves."""
    bins: int = 15
    """Equal-width probability bins of ECE and the reliability diagram."""
    cache_dir: str | None = None
    """Cache of fitted user models (default: $RECGYM_CACHE or ~/.cache/recgym)."""


@dataclass(frozen=True)
class Half:
    """Random-exposure test rows of some users: indices into `CoatData` and like labels [N]."""

    users: torch.Tensor
    items: torch.Tensor
    likes: np.ndarray


def training_log(train: InteractionLog, target: Target) -> InteractionLog:
    """The log the models of `target` are fitted on."""
    return train.as_likes() if target == "likes" else train


def split_users(test: pd.DataFrame, seed: int) -> tuple[Half, Half]:
    """Calibration and evaluation halves, by user so no user informs both the fit and the score."""
    users = np.sort(test["user"].unique())
    calibration_users = np.random.default_rng(seed).permutation(users)[: len(users) // 2]
    in_calibration = test["user"].isin(calibration_users).to_numpy()
    return _half(test[in_calibration]), _half(test[~in_calibration])


def _half(rows: pd.DataFrame) -> Half:
    return Half(
        users=torch.tensor(rows["user"].to_numpy()),
        items=torch.tensor(rows["item"].to_numpy()),
        likes=(rows["rating"].to_numpy() >= LIKE_RATING).astype(np.int64),
    )


@torch.no_grad()
def calibrated_logits(fitted: FittedUserModel, half: Half) -> torch.Tensor:
    """The model's own calibrated like logits [N] of the half's (user, item) pairs."""
    model = fitted.model.eval()
    return fitted.calibration.logit(model.score(half.users, half.items)).double().cpu()


def like_rate_logits(train: InteractionLog, half: Half, smoothing: float) -> torch.Tensor:
    """Logits [N] of the additive like-rate baseline on the half's (user, item) pairs.

    logit(g) + (logit(r_u) - logit(g)) + (logit(r_i) - logit(g)), where g is the like rate of all train
    ratings and r_u, r_i are the like rates of user u's and item i's train ratings, each shrunk towards g
    by `smoothing` pseudo-ratings: r = (likes + smoothing * g) / (ratings + smoothing). A user or item
    without train ratings gets g, an offset of 0. Within a user the ranking is the items' like rates.
    """
    frame = train.frame
    liked = (frame["rating"] >= LIKE_RATING).to_numpy(dtype=np.float64)  # [R]
    overall = float(liked.mean())

    def offsets(index: np.ndarray, size: int) -> np.ndarray:  # [size] logit offsets from the global rate
        likes = np.bincount(index, weights=liked, minlength=size)
        ratings = np.bincount(index, minlength=size)
        return _logit((likes + smoothing * overall) / (ratings + smoothing)) - _logit(overall)

    user = offsets(frame["user"].to_numpy(), train.n_users)[half.users.numpy()]
    item = offsets(frame["item"].to_numpy(), train.n_items)[half.items.numpy()]
    return torch.from_numpy(_logit(overall) + user + item)


def _logit(p: np.ndarray | float) -> np.ndarray:
    return np.log(p) - np.log1p(-np.asarray(p))


def recalibrated(
    calibration_logits: torch.Tensor, calibration: Half, evaluation_logits: torch.Tensor
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Evaluation-half probabilities [N] of each variant, and the temperature-scaling parameters.

    Temperature scaling acts on the model's calibrated logit, so `temperature` is 1 and `bias` 0 when
    the model's own calibration already fits the random-exposure data.
    """
    temperature, _ = fit_temperature(calibration_logits, calibration.likes)
    biased_temperature, bias = fit_temperature(calibration_logits, calibration.likes, fit_bias=True)
    isotonic = fit_isotonic(torch.sigmoid(calibration_logits), calibration.likes)
    probabilities = {
        "as-fitted": torch.sigmoid(evaluation_logits),
        "temperature": torch.sigmoid(evaluation_logits / temperature),
        "temperature+bias": torch.sigmoid(evaluation_logits / biased_temperature + bias),
    }
    arrays = {name: p.numpy() for name, p in probabilities.items()}
    arrays["isotonic"] = isotonic(probabilities["as-fitted"])
    parameters = {"temperature": temperature, "biased_temperature": biased_temperature, "bias": bias}
    return arrays, parameters


def per_user_auc(probabilities: np.ndarray, likes: np.ndarray, users: np.ndarray) -> tuple[float, int]:
    """Mean AUC [scalar] within each user of users [N] whose likes [N] hold both classes, and how many
    such users there are (NaN and 0 when none)."""
    frame = pd.DataFrame({"p": probabilities, "y": likes, "user": users})
    scores = [
        auc(group["p"].to_numpy(), group["y"].to_numpy())
        for _, group in frame.groupby("user", sort=True)
        if group["y"].nunique() == 2
    ]
    return (float(np.mean(scores)) if scores else float("nan")), len(scores)


def plot_reliability(grid: list[dict[str, dict[str, pd.DataFrame]]], base_rate: float, path: str) -> None:
    """One row of panels per entry of grid, one panel per title in it: observed like rate against mean
    predicted probability, per variant; sparse bins are drawn small, since their observed rate is mostly
    noise."""
    columns = max(len(panels) for panels in grid)
    figure = Figure(figsize=(3.6 * columns, 3.6 * len(grid)))
    axes = figure.subplots(len(grid), columns, squeeze=False)
    for row_axes, panels in zip(axes, grid, strict=True):
        for axis, (title, by_variant) in zip(row_axes, panels.items(), strict=False):
            axis.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
            axis.axhline(base_rate, color="grey", linewidth=0.5)
            for variant, table in by_variant.items():
                filled = table[table["count"] > 0]
                x, y = filled["mean_predicted"], filled["observed_rate"]
                (line,) = axis.plot(x, y, linewidth=1, alpha=0.7, label=variant)
                share = filled["count"] / table["count"].sum()
                axis.scatter(x, y, s=400 * share, color=line.get_color())  # area ~ share of rows in the bin
            axis.set(title=title, xlim=(0, 1), ylim=(0, 1), xlabel="predicted P(like)", ylabel="observed")
        for axis in row_axes[len(panels) :]:
            axis.set_visible(False)
    axes.flat[0].legend(fontsize=8, loc="upper left")
    figure.suptitle(
        "Coat random-exposure test, evaluation half (grey: like rate; dot area: share of rows)", fontsize=10
    )
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    atomic_write_bytes(path, buffer.getvalue())


def seen_in_train(data: CoatData) -> int:
    """Test (user, item) pairs the user also rated by choice: random exposure, but not new to the model."""
    train_pairs = data.train.frame[["user", "item"]]
    return len(data.test.merge(train_pairs, on=["user", "item"]))


HEADER = (
    "| model | target | calibration | AUC | user AUC | log-loss | ECE | mean p |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- |"
)


def markdown_row(row: dict) -> str:
    return (
        f"| {row['model']} | {row['target']} | {row['calibration']} | {row['auc']:.3f} | "
        f"{row['user_auc']:.3f} | {row['log_loss']:.3f} | {row['ece']:.3f} | {row['mean_predicted']:.3f} |"
    )


def measure(model: str, target: str, variant: str, probabilities: np.ndarray, half: Half, bins: int) -> dict:
    """One row of the table, printed (as a markdown row) as it is made."""
    user_auc, n_auc_users = per_user_auc(probabilities, half.likes, half.users.numpy())
    row = {
        "model": model,
        "target": target,
        "calibration": variant,
        "auc": auc(probabilities, half.likes),
        "user_auc": user_auc,
        "n_auc_users": n_auc_users,
        "log_loss": log_loss(probabilities, half.likes),
        "ece": expected_calibration_error(probabilities, half.likes, bins),
        "mean_predicted": float(probabilities.mean()),
        "base_rate": float(half.likes.mean()),
        "n": len(half.likes),
    }
    print(markdown_row(row), flush=True)
    return row


def model_config(name: ModelName, epochs: int | None) -> UserModelConfig:
    """The library's default config of model `name`, with at most `epochs` epochs when given."""
    if epochs is None:
        return UserModelConfig(default_architecture(name))
    return UserModelConfig(default_architecture(name), train=TrainConfig(epochs=epochs))


def main(args: Args) -> list[dict]:
    data = load_coat(args.path)
    calibration, evaluation = split_users(data.test, args.seed)
    base_rate = float(evaluation.likes.mean())
    train_like_rate = float((data.train.frame["rating"] >= LIKE_RATING).mean())
    print(
        f"Coat: {len(data.train)} self-selected ratings (like rate {train_like_rate:.3f}); random-exposure "
        f"test: {len(calibration.likes)} calibration / {len(evaluation.likes)} evaluation rows, like rate "
        f"{base_rate:.3f}; {seen_in_train(data)} test pairs also rated in train",
        flush=True,
    )
    print(HEADER)
    constant = np.full(len(evaluation.likes), calibration.likes.mean())
    rows = [measure("base-rate", "none", "constant", constant, evaluation, args.bins)]
    parameters: dict[str, dict[str, dict[str, float]]] = {}
    tables: dict[str, dict[str, dict[str, pd.DataFrame]]] = {}
    fits: dict[str, dict[str, dict[str, float]]] = {}

    def add(model: str, target: str, logits: Callable[[Half], torch.Tensor]) -> None:
        """Rows of every variant of one predictor, given its like logits [N] of a half's rows."""
        probabilities, parameters.setdefault(target, {})[model] = recalibrated(
            logits(calibration), calibration, logits(evaluation)
        )
        by_variant = tables.setdefault(target, {}).setdefault(model, {})
        for variant, p in probabilities.items():
            by_variant[variant] = reliability_table(p, evaluation.likes, args.bins)
            rows.append(measure(model, target, variant, p, evaluation, args.bins))

    add(BASELINE, "likes", partial(like_rate_logits, data.train, smoothing=args.smoothing))
    for target in args.targets:
        log = training_log(data.train, target)
        for name in args.models:
            fitted = fit_user_model(
                log,
                model_config(name, args.epochs),
                cache_dir=cache_folder(args.cache_dir),
                progress=False,
            )
            fitted.model.set_context(log)  # AutoRec and sequence models read each user's positives
            fits.setdefault(target, {})[name] = {
                key: fitted.fit_report[key] for key in ("epochs", "best_epoch", "best_valid_ndcg")
            }
            add(name, target, partial(calibrated_logits, fitted))
    grid = [{f"{m} ({target})": tables[target][m] for m in args.models} for target in args.targets] or [{}]
    grid[-1][f"{BASELINE} (likes)"] = tables["likes"][BASELINE]  # beside the last target's models
    plot_reliability(grid, base_rate, args.figure)
    atomic_write_json(
        args.out,
        {
            "args": asdict(args),
            "base_rate": base_rate,
            "train_like_rate": train_like_rate,
            "rows": rows,
            "recalibration": parameters,
            "fit": fits,
            "reliability": {
                target: {
                    model: {
                        variant: table[table["count"] > 0].to_dict(orient="list")
                        for variant, table in by_variant.items()
                    }
                    for model, by_variant in by_model.items()
                }
                for target, by_model in tables.items()
            },
        },
    )
    print(f"\n{HEADER}\n" + "\n".join(markdown_row(row) for row in rows))
    return rows


if __name__ == "__main__":
    main(tyro.cli(Args))
