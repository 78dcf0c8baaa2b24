"""The fidelity study's report: its tables, and the item genres its figures split sessions by."""

from __future__ import annotations

from typing import Any

import numpy as np

from recgym.data import InteractionLog, LogError
from recgym.data.sources import LogSource, source_genres


def item_genres(data: LogSource, log: InteractionLog) -> tuple[np.ndarray | None, list[str]]:
    """Primary genre per item, as the source knows them (`recgym.data.sources.source_genres`): the
    synthetic world's topics, MovieLens genres when the files have them; none otherwise."""
    try:
        genres = source_genres(data, log)
    except LogError as error:
        print(f"no genre figures: {error}")
        return None, []
    return (None, []) if genres is None else (genres.primary, genres.names)


def dense_to_raw_ids(log: InteractionLog) -> tuple[np.ndarray, np.ndarray]:
    """The original (here: the world's) user and item id of every dense id of the log."""
    users = log.raw_users(np.arange(log.n_users)).astype(np.int64)
    return users, log.raw_items(np.arange(log.n_items)).astype(np.int64)


def markdown_report(results: dict[str, Any]) -> str:
    """The report's tables: sessions, calibration, leave model, and errors against the truth."""
    sessions = results["sessions"]
    names = list(sessions)
    lines = [
        f"# Fidelity: {results['user_model']} simulator of {results['data']}",
        "",
        f"{results['held_out_sessions']} held-out sessions, compared up to {results['horizon']} steps; "
        "'learned' uses the dynamics learned from the other sessions, 'rule' the hand-set ones.",
        "",
        "| figure | real | " + " | ".join(names) + " |",
        "| --- | --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for key in sessions[names[0]]["real"]:
        cells = [f"{sessions[name]['simulated'][key]:.3f}" for name in names]
        lines.append(f"| {key} | {sessions[names[0]]['real'][key]:.3f} | " + " | ".join(cells) + " |")
    for key in ("ks_session_length", "genre_total_variation"):
        if key in sessions[names[0]]:
            lines.append(
                f"| {key} (to real) | | " + " | ".join(f"{sessions[n][key]:.3f}" for n in names) + " |"
            )
    lines += ["", "Click probability on the held-out logged steps (replayed):", ""]
    lines += _table(results["click_calibration"])
    leave = results["dynamics"]["leave"]["held_out"]
    lines += ["", "Leave model on held-out steps (learned hazard vs the hand rule):", ""]
    lines += _table(leave)
    if "truth_errors" in results:
        lines += ["", "Error against the true world (mean absolute error | correlation):", ""]
        components = list(results["truth_errors"][names[0]])
        lines.append("| simulator | " + " | ".join(components) + " |")
        lines.append("| --- | " + " | ".join("---" for _ in components) + " |")
        for name, errors in results["truth_errors"].items():
            cells = [f"{errors[c]['mae']:.3f} \\| {errors[c]['correlation']:.3f}" for c in components]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _table(rows: dict[str, dict[str, float]]) -> list[str]:
    columns = list(next(iter(rows.values())))
    lines = ["| | " + " | ".join(columns) + " |", "| --- | " + " | ".join("---" for _ in columns) + " |"]
    for name, values in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{values[c]:.3f}" for c in columns) + " |")
    return lines
