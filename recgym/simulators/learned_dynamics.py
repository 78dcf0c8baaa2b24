"""Fatigue, leaving and returning learned from a timestamped log, and checked on held-out sessions.

`learn_dynamics(simulator, log)` cuts the log into sessions, replays them through the simulator
(`replay_sessions`) and fits, on a random 80% of the sessions:

- **fatigue and repetition**: a logistic click model on top of the simulator's affinity logit (an
  offset), with the affinity itself, the felt fatigue and the repeat flag as features. The weights
  replace `affinity_scale`, `click_bias`, `fatigue_weight` and `repeat_penalty` where the log can
  identify them: clicks must vary (impressions or explicit ratings) and, for repetition, items must
  recur within sessions. Otherwise the configured values stay, and the report says so.
- **leaving**: a logistic hazard on `LEAVE_FEATURES`, labelled by each session's last step.
- **returning**: the log-normal time to the next session (`fit_return_model`), for the retention
  reward, when users have at least ten gaps between sessions.

The other 20% of sessions measure the learned leave and click models against the configured hand
rules (log-loss and AUC), so a user sees whether learning helped on their data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from recgym.data.interactions import InteractionLog, LogError
from recgym.data.log_sessions import LogSessions, split_sessions
from recgym.models.logistic import fit_logistic
from recgym.models.probability_metrics import auc, log_loss
from recgym.simulators.dynamics import DynamicsSimulator
from recgym.simulators.dynamics_params import DynamicsConfig, DynamicsParams
from recgym.simulators.leave_model import LeaveModel
from recgym.simulators.replay import ReplayedSteps, replay_sessions, replayed_click_logit
from recgym.simulators.return_model import ReturnModel, fit_return_model

MIN_REPEATS = 30
"""Repeated shows a log needs before the repeat penalty is estimated rather than kept as configured."""


@dataclass(frozen=True)
class LearnedDynamics:
    """What was learned, ready to make a simulator with (`simulator.with_dynamics(learned.params)`), and
    how well it did on held-out sessions."""

    dynamics: DynamicsConfig
    leave_model: LeaveModel
    return_model: ReturnModel | None
    report: dict[str, Any] = field(default_factory=dict)
    sessions: LogSessions | None = None
    """The log's sessions the dynamics were learned from."""
    held_out_sessions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """Ids (in `sessions`) of the sessions kept out of every fit, for fidelity checks."""

    @property
    def params(self) -> DynamicsParams:
        """The learned settings, leave model and return model as a simulator's dynamics part."""
        return DynamicsParams(self.dynamics, self.leave_model, self.return_model)


def learn_dynamics(
    simulator: DynamicsSimulator,
    log: InteractionLog,
    gap_seconds: float | None = None,
    censor_length: int | None = None,
    holdout: float = 0.2,
    max_length: int = 200,
    seed: int = 0,
) -> LearnedDynamics:
    """Learn the dynamics of `simulator` from `log` (see the module docstring).

    :param gap_seconds: session gap threshold; None reads it from the data (`otsu_gap`).
    :param censor_length: sessions this long were cut by the logger, not ended by the user.
    :param holdout: share of sessions kept out of the fits to validate them.
    :raises LogError: for an untimed log (`log.timed` False), a log whose times do not separate visits,
        or one with fewer than 10 sessions.
    """
    if not 0.0 < holdout < 1.0:
        raise ValueError(f"holdout must be in (0, 1), got {holdout}")
    log.require_times(
        "sessions cannot be seen and no dynamics can be learned; use hand-set dynamics (dynamics:hand-set)"
    )
    sessions = split_sessions(log, gap_seconds)
    if sessions.gap_seconds == float("inf"):
        raise LogError(
            f"{log.name}: its timestamps do not separate visits (fewer than two distinct gaps between a "
            "user's rows), so no session ends can be seen; give gap_seconds, or keep the hand-set dynamics "
            "(dynamics:hand-set)"
        )
    if len(sessions.sessions) < 10:
        found = len(sessions.sessions)
        raise LogError(f"{log.name}: learning dynamics needs at least 10 sessions, got {found}")
    steps = replay_sessions(
        simulator, sessions, log.like_threshold, max_length=max_length, censor_length=censor_length
    )
    held_out_sessions = np.random.default_rng(seed).random(len(sessions.sessions)) < holdout
    held = held_out_sessions[steps.session]
    dynamics, click_report = _learn_click_costs(simulator.dynamics, steps, held)
    leave_model, leave_report = _learn_leave(simulator.active_leave_model(), steps, held)
    try:
        return_model: ReturnModel | None = fit_return_model(sessions)
    except LogError:
        return_model = None
    report = {
        "gap_seconds": sessions.gap_seconds,
        "sessions": len(sessions.sessions),
        "held_out_sessions": int(held_out_sessions.sum()),
        "steps": len(steps.session),
        "mean_session_length": float(sessions.sessions["length"].mean()),
        "click": click_report,
        "leave": leave_report,
        "return": None if return_model is None else dataclasses.asdict(return_model),
    }
    return LearnedDynamics(
        dynamics, leave_model, return_model, report, sessions, np.flatnonzero(held_out_sessions)
    )


def _learn_click_costs(
    configured: DynamicsConfig, steps: ReplayedSteps, held: np.ndarray
) -> tuple[DynamicsConfig, dict[str, Any]]:
    """Affinity scale, click bias, fatigue weight and repeat penalty from a logistic click model with
    the affinity logit as offset. A cost that comes out negative (the log shows no such effect) is set
    to 0 and the rest refitted without it."""
    clicks = steps.click
    if clicks.min() == clicks.max():
        why = "every logged step is a click: no non-clicks to learn fatigue from"
        return configured, {"estimated": False, "why": why}
    repeats = int(steps.repeated.sum())
    columns = {"affinity": steps.affinity_logit, "fatigue": -steps.fatigue, "repeated": -steps.repeated}
    if repeats < MIN_REPEATS:
        del columns["repeated"]
    train = ~held
    offset = torch.as_tensor(steps.affinity_logit[train])
    raw: dict[str, float] = {}
    while True:
        features = torch.as_tensor(np.column_stack(list(columns.values()))[train])
        fit = fit_logistic(features, torch.as_tensor(clicks[train]), offset=offset)
        weights = dict(zip(columns, fit.weights, strict=True))
        raw = raw or weights
        negative = [name for name in ("fatigue", "repeated") if weights.get(name, 0.0) < 0]
        if not negative:
            break
        for name in negative:
            del columns[name]
    learned = dataclasses.replace(
        configured,
        affinity_scale=max(1e-3, 1.0 + weights["affinity"]),
        fatigue_weight=weights.get("fatigue", 0.0),
        repeat_penalty=weights.get("repeated", 0.0) if repeats >= MIN_REPEATS else configured.repeat_penalty,
        click_bias=fit.bias,
    )
    report = {
        "estimated": True,
        "affinity_scale": learned.affinity_scale,
        "click_bias": learned.click_bias,
        "fatigue_weight": learned.fatigue_weight,
        "raw_fatigue_weight": raw["fatigue"],
        "repeat_penalty": learned.repeat_penalty,
        "repeat_estimated": repeats >= MIN_REPEATS,
        "repeats_in_log": repeats,
        "held_out": {
            "learned": _scores(replayed_click_logit(learned, steps)[held], clicks[held]),
            "configured": _scores(replayed_click_logit(configured, steps)[held], clicks[held]),
        },
    }
    return learned, report


def _learn_leave(
    rule: LeaveModel, steps: ReplayedSteps, held: np.ndarray
) -> tuple[LeaveModel, dict[str, Any]]:
    """A logistic hazard fitted on the training sessions' uncensored steps."""
    known = ~steps.censored
    train, test = known & ~held, known & held
    labels = steps.ended.astype(np.float64)
    if labels[train].min() == labels[train].max():
        raise LogError("cannot learn when users leave: no session ends inside the log, or all steps end one")
    features = torch.as_tensor(steps.leave_features, dtype=torch.float64)
    learned = LeaveModel(fit_logistic(features[train], torch.as_tensor(labels[train])), source="learned")
    report = {
        "coefficients": learned.coefficients(),
        "train_steps": int(train.sum()),
        "held_out_steps": int(test.sum()),
        "held_out_leave_rate": float(labels[test].mean()) if test.any() else float("nan"),
        "held_out": {
            name: _scores(model.fit.logit(features[test]).numpy(), labels[test])
            for name, model in (("learned", learned), ("rule", rule))
        },
    }
    return learned, report


def _scores(logits: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Log-loss and AUC of the probabilities sigmoid(logits) for 0/1 labels."""
    probabilities = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))
    scores = {"log_loss": log_loss(probabilities, labels)}
    scores["auc"] = auc(probabilities, labels) if 0 < labels.mean() < 1 else float("nan")
    return scores
