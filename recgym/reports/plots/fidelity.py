"""The fidelity report's figures: session lengths, click calibration, consumption concentration, genres."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from recgym.fidelity import SessionSample, genre_shares, lorenz_curve  # noqa: E402
from recgym.models.probability_metrics import reliability_table  # noqa: E402
from recgym.runs.checkpoint import atomic_write_bytes  # noqa: E402


def save_figure(figure: plt.Figure, path: Path) -> None:
    """Write a PNG atomically (a finished plot or none)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    atomic_write_bytes(path, buffer.getvalue())


def plot_session_lengths(samples: dict[str, SessionSample], horizon: int, path: Path) -> None:
    figure, axis = plt.subplots(figsize=(6, 3.5))
    bins = np.unique(np.linspace(1, horizon + 1, min(horizon, 40) + 1).astype(int)).tolist()
    for name, sample in samples.items():
        axis.hist(sample.lengths, bins=bins, density=True, histtype="step", linewidth=1.6, label=name)
    axis.set(xlabel="session length (steps)", ylabel="share of sessions", title="Session lengths")
    axis.legend()
    save_figure(figure, path)


def plot_reliability(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> None:
    figure, axis = plt.subplots(figsize=(4, 4))
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    for name, (probability, labels) in curves.items():
        table = reliability_table(probability, labels, bins=10)
        table = table[table["count"] > 0]
        axis.plot(table["mean_predicted"], table["observed_rate"], marker="o", label=name)
    axis.set(xlabel="predicted click probability", ylabel="observed click rate", title="Click calibration")
    axis.legend()
    save_figure(figure, path)


def plot_popularity(samples: dict[str, SessionSample], n_items: int, path: Path) -> None:
    figure, axis = plt.subplots(figsize=(4, 4))
    for name, sample in samples.items():
        curve = lorenz_curve(np.bincount(sample.item[sample.click], minlength=n_items))
        axis.plot(np.linspace(0, 1, len(curve)), curve, label=name)
    axis.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    axis.set(
        xlabel="share of items (least clicked first)", ylabel="share of clicks", title="Click concentration"
    )
    axis.legend()
    save_figure(figure, path)


def plot_genres(samples: dict[str, SessionSample], genres: np.ndarray, names: list[str], path: Path) -> None:
    figure, axis = plt.subplots(figsize=(max(6, 0.45 * len(names)), 3.5))
    width = 0.8 / len(samples)
    for k, (name, sample) in enumerate(samples.items()):
        shares = genre_shares(sample, genres, len(names))
        axis.bar(np.arange(len(names)) + k * width, shares, width=width, label=name)
    axis.set_xticks(np.arange(len(names)) + 0.4 - width / 2, names, rotation=60, ha="right")
    axis.set(ylabel="share of clicks", title="Genres of clicked items")
    axis.legend()
    save_figure(figure, path)


def plot_fidelity(
    folder: Path,
    samples: dict[str, Any],
    calibration: dict[str, tuple[np.ndarray, np.ndarray, Any]],
    horizon: int,
    n_items: int,
    genres: np.ndarray | None,
    genre_names: list[str],
) -> None:
    """Every figure of the fidelity report into folder: session lengths, click calibration, item
    popularity and, when items have genres, genre shares."""
    plot_session_lengths(samples, horizon, folder / "session_lengths.png")
    plot_reliability({name: (p, y) for name, (p, y, _) in calibration.items()}, folder / "calibration.png")
    plot_popularity(samples, n_items, folder / "popularity.png")
    if genres is not None:
        plot_genres(samples, genres, genre_names, folder / "genres.png")
