"""How faithful a simulator is: its sessions beside held-out real ones, under the same logging behaviour.

The held-out sessions' users are simulated while being shown what the logging system showed them, in
the logged order (after the logged items run out, items drawn from the log's item frequencies). The
simulated sessions are then compared with the real ones on what a recommender study depends on:
how long sessions last (KS distance of the lengths), how often users click, how concentrated
consumption is (Gini of clicked items), how much users stay in a genre and which genres they consume,
and whether the click probability is calibrated (on the logged steps, replayed). When the truth is
known (the synthetic world), `truth_errors` also compares every fitted component with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.stats import ks_2samp

from recgym.data.log_sessions import LogSessions
from recgym.models.probability_metrics import auc, expected_calibration_error, log_loss
from recgym.random import RowStreams
from recgym.sessions import Sessions
from recgym.simulators.dynamics import DynamicsSimulator
from recgym.simulators.replay import ReplayedSteps, replay_sessions, replayed_click_logit


@dataclass(frozen=True)
class SessionSample:
    """Sessions as flat steps: `session` [N] (0..S-1), `item` [N], `click` [N] bool; `lengths` [S]."""

    session: np.ndarray
    item: np.ndarray
    click: np.ndarray
    lengths: np.ndarray


def real_sample(sessions: LogSessions, like_threshold: float, horizon: int) -> SessionSample:
    """The logged sessions, cut at horizon steps like the simulated ones."""
    rows = sessions.rows[sessions.rows["position"] < horizon]
    return SessionSample(
        session=rows["session"].to_numpy(),
        item=rows["item"].to_numpy(),
        click=rows["rating"].to_numpy() >= like_threshold,
        lengths=np.minimum(sessions.sessions["length"].to_numpy(), horizon),
    )


@torch.no_grad()
def simulate_logging(
    simulator: DynamicsSimulator,
    sessions: LogSessions,
    item_frequency: np.ndarray,
    horizon: int,
    seed: int = 0,
) -> SessionSample:
    """Each session's user, simulated under the logged items, then under items drawn by `item_frequency`."""
    device = simulator.device
    table = sessions.sessions
    batch = len(table)
    logged = np.full((batch, horizon), -1, dtype=np.int64)
    rows = sessions.rows[sessions.rows["position"] < horizon]
    logged[rows["session"].to_numpy(), rows["position"].to_numpy()] = rows["item"].to_numpy()
    logged_items = torch.as_tensor(logged, device=device)
    frequency = torch.as_tensor(item_frequency, dtype=torch.float32, device=device).clamp_min(1e-12)
    generator = torch.Generator(device=device).manual_seed(seed)
    rng = RowStreams.from_seed(seed, batch, device=device)
    runner = Sessions(simulator, batch, history_len=1, horizon=horizon)
    runner.reset(torch.tensor(table["user"].to_numpy(), device=device), rng)
    active = torch.ones(batch, dtype=torch.bool, device=device)
    steps: dict[str, list[np.ndarray]] = {"session": [], "item": [], "click": []}
    lengths = torch.zeros(batch, dtype=torch.long, device=device)
    for t in range(horizon):
        drawn = torch.multinomial(
            frequency.expand(batch, -1).masked_fill(runner.shown, 0.0) + 1e-12, 1, generator=generator
        )
        items = torch.where(logged_items[:, t] >= 0, logged_items[:, t], drawn.squeeze(1))
        result = runner.step(items, rng, check=False)
        index = active.nonzero().squeeze(1)
        steps["session"].append(index.cpu().numpy())
        steps["item"].append(items[index].cpu().numpy())
        steps["click"].append(result.click[index].cpu().numpy())
        lengths += active.long()
        active &= ~(result.terminated | result.truncated)
        if not bool(active.any()):
            break
    flat = {key: np.concatenate(values) for key, values in steps.items()}
    return SessionSample(lengths=lengths.cpu().numpy(), **flat)


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts: 0 when all equal, towards 1 when one item takes all."""
    values = np.sort(np.asarray(counts, dtype=np.float64))
    if values.sum() == 0:
        return 0.0
    n = len(values)
    return float((2 * np.arange(1, n + 1) - n - 1) @ values / (n * values.sum()))


def lorenz_curve(counts: np.ndarray) -> np.ndarray:
    """Cumulative share of consumption held by the least-consumed items (for plots), starting at 0."""
    values = np.sort(np.asarray(counts, dtype=np.float64))
    return np.r_[0.0, np.cumsum(values) / max(values.sum(), 1e-12)]


def genre_shares(sample: SessionSample, genres: np.ndarray, n_genres: int) -> np.ndarray:
    """[n_genres] share of clicks on each (primary) genre; items without one (-1) are left out."""
    clicked = genres[sample.item[sample.click]]
    counts = np.bincount(clicked[clicked >= 0], minlength=n_genres).astype(np.float64)
    return counts / max(counts.sum(), 1.0)


def same_genre_rate(sample: SessionSample, genres: np.ndarray) -> float:
    """Share of consecutive clicks within a session that stay in the previous click's genre."""
    order = np.lexsort((np.arange(len(sample.session)), sample.session))
    session, item = sample.session[order][sample.click[order]], sample.item[order][sample.click[order]]
    same_session = session[1:] == session[:-1]
    if not same_session.any():
        return float("nan")
    return float((genres[item[1:]] == genres[item[:-1]])[same_session].mean())


def compare_samples(
    real: SessionSample, simulated: SessionSample, n_items: int, genres: np.ndarray | None = None
) -> dict[str, Any]:
    """Real and simulated figures side by side, with the distance between them."""

    def figures(sample: SessionSample) -> dict[str, Any]:
        clicked = np.bincount(sample.item[sample.click], minlength=n_items)
        result: dict[str, Any] = {
            "session_length": float(sample.lengths.mean()),
            "ctr": float(sample.click.mean()) if len(sample.click) else 0.0,
            "clicks_per_session": float(sample.click.sum() / max(len(sample.lengths), 1)),
            "gini_clicked": gini(clicked),
        }
        if genres is not None:
            result["same_genre_rate"] = same_genre_rate(sample, genres)
        return result

    report: dict[str, Any] = {"real": figures(real), "simulated": figures(simulated)}
    report["ks_session_length"] = float(ks_2samp(real.lengths, simulated.lengths).statistic)
    if genres is not None:
        n_genres = int(genres.max()) + 1
        shares = genre_shares(real, genres, n_genres), genre_shares(simulated, genres, n_genres)
        report["genre_total_variation"] = float(0.5 * np.abs(shares[0] - shares[1]).sum())
    return report


def click_calibration(
    simulator: DynamicsSimulator, sessions: LogSessions, like_threshold: float, horizon: int
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """The simulator's click probability on every replayed logged step, the logged clicks, and their
    log-loss, AUC and ECE."""
    steps = replay_sessions(simulator, sessions, like_threshold, max_length=horizon)
    probability = 1.0 / (1.0 + np.exp(-replayed_click_logit(simulator.dynamics, steps)))
    labels = steps.click
    scores = {
        "log_loss": log_loss(probability, labels),
        "ece": expected_calibration_error(probability, labels),
        "auc": auc(probability, labels) if 0 < labels.mean() < 1 else float("nan"),
        "mean_predicted": float(probability.mean()),
        "mean_observed": float(labels.mean()),
    }
    return probability, labels, scores


def truth_errors(
    fitted: DynamicsSimulator,
    truth: DynamicsSimulator,
    sessions: LogSessions,
    like_threshold: float,
    horizon: int,
    raw_users: np.ndarray,
    raw_items: np.ndarray,
) -> dict[str, dict[str, float]]:
    """Fitted against true probabilities, on every replayed held-out step and every user-item pair.

    The log's dense ids index the fitted simulator; `raw_users` and `raw_items` (`InteractionLog.raw_*`
    of every dense id) are the truth's ids.
    """
    in_truth = LogSessions(
        sessions.rows.assign(item=raw_items[sessions.rows["item"].to_numpy()]),
        sessions.sessions.assign(user=raw_users[sessions.sessions["user"].to_numpy()]),
        sessions.gap_seconds,
    )
    fitted_steps = replay_sessions(fitted, sessions, like_threshold, max_length=horizon)
    true_steps = replay_sessions(truth, in_truth, like_threshold, max_length=horizon)
    true_affinity = _fresh_affinity(truth)[np.ix_(raw_users, raw_items)]
    return {
        "click_probability": _errors(_click(fitted, fitted_steps), _click(truth, true_steps)),
        "leave_probability": _errors(_leave(fitted, fitted_steps), _leave(truth, true_steps)),
        "affinity_probability": _errors(_fresh_affinity(fitted).ravel(), true_affinity.ravel()),
    }


def _click(simulator: DynamicsSimulator, steps: ReplayedSteps) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-replayed_click_logit(simulator.dynamics, steps)))


def _leave(simulator: DynamicsSimulator, steps: ReplayedSteps) -> np.ndarray:
    logit = simulator.active_leave_model().fit.logit(
        torch.as_tensor(steps.leave_features, dtype=torch.float64)
    )
    return torch.sigmoid(logit).numpy()


@torch.no_grad()
def _fresh_affinity(simulator: DynamicsSimulator) -> np.ndarray:
    """[users, items] click probability before dynamics, for every user-item pair at session start."""
    users = torch.arange(simulator.n_users, device=simulator.device)
    state = simulator.initial_state(users, RowStreams.from_seed(0, len(users), device=simulator.device))
    columns = [
        torch.sigmoid(simulator.affinity_logit(state, torch.full_like(users, item))).cpu()
        for item in range(simulator.n_items)
    ]
    return torch.stack(columns, dim=1).numpy()


def _errors(estimate: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    return {
        "mae": float(np.abs(estimate - truth).mean()),
        "bias": float((estimate - truth).mean()),
        "correlation": float(np.corrcoef(estimate, truth)[0, 1]),
        "mean_true": float(truth.mean()),
    }
