"""Every policy on the same simulated users, with the same random streams, and honest intervals.

All evaluated users run at once as one batch. Each policy sees the same user sample and the same
per-user random streams (`RowStreams`): user i's k-th draw is the same number under every policy
(common random numbers), so differences between policies are not noise from different draws, and
the result does not depend on how many users are evaluated together.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from recgym.policy import Policy
from recgym.random import RowStreams
from recgym.session_shape import HISTORY_LEN, HORIZON
from recgym.sessions import Sessions
from recgym.simulators.choice import ChoiceConfig
from recgym.simulators.protocol import UserSimulator


@dataclass(frozen=True)
class EvalConfig:
    """Who is evaluated and for how long."""

    n_users: int = 1000
    """Simulated sessions per policy (users drawn from the simulator's population)."""
    horizon: int = HORIZON
    """Longest session."""
    history_len: int = HISTORY_LEN
    """Recent steps in the observation (must match what agents were trained with)."""
    seed: int = 0
    """Seed of the user sample and of the simulator's and policies' random streams."""
    choice: ChoiceConfig | None = None
    """Recommend slates answered by this choice model; None recommends one item per step."""


@dataclass(frozen=True)
class Episodes:
    """Per-session outcomes of one policy: returns, lengths, clicks, diversity; item exposure counts."""

    returns: np.ndarray  # [N]
    lengths: np.ndarray  # [N]
    clicks: np.ndarray  # [N]
    diversity: np.ndarray  # [N], NaN for sessions shorter than 2
    item_counts: np.ndarray  # [n_items]
    novelty: np.ndarray | None = None  # [N] mean self-information of the items shown (bits)


def evaluation_users(simulator: UserSimulator, n_users: int, seed: int) -> torch.Tensor:
    """The seeded user sample: without replacement when the population is large enough."""
    generator = torch.Generator().manual_seed(seed)
    if n_users <= simulator.n_users:
        users = torch.randperm(simulator.n_users, generator=generator)[:n_users]
    else:
        users = torch.randint(simulator.n_users, (n_users,), generator=generator)
    return users.to(simulator.device)


def _unit_item_vectors(simulator: UserSimulator) -> torch.Tensor | None:
    vectors = getattr(simulator, "item_vectors", None)
    if vectors is None:
        warnings.warn(
            f"{type(simulator).__name__} has no item_vectors [n_items, d], so diversity can only tell "
            "identical items from different ones (every session of distinct items scores 1); give the "
            "simulator item_vectors to measure it (docs/custom_simulator.md)",
            stacklevel=3,
        )
        return None
    return torch.nn.functional.normalize(vectors.float(), dim=-1)


def self_information(item_popularity: np.ndarray) -> np.ndarray:
    """[n_items] -log2 of each item's share of the logged interactions (add-one smoothed): the
    novelty of recommending it."""
    counts = np.asarray(item_popularity, dtype=np.float64) + 1.0
    return -np.log2(counts / counts.sum())


@torch.no_grad()
def rollout(
    simulator: UserSimulator,
    policy: Policy,
    users: torch.Tensor,
    config: EvalConfig,
    item_popularity: np.ndarray | None = None,
    on_step: Callable[[], None] | None = None,
) -> Episodes:
    """Run one session per user to the end under policy (slates of `config.choice` when set),
    calling `on_step` after each batched step.

    Diversity is 1 - the mean pairwise cosine similarity of the items shown in a session (every slate
    item counts), using the simulator's `item_vectors` when it has them (else items count as
    different unless identical). Novelty, given the logs' item popularity, is the mean
    `self_information` of the items shown.
    """
    device = simulator.device
    rng = RowStreams.from_seed(config.seed, users.shape[0], device=device)
    policy_generator = torch.Generator(device=device).manual_seed(config.seed + 1)
    batch = users.shape[0]
    sessions = Sessions(simulator, batch, history_len=config.history_len, horizon=config.horizon)
    sessions.reset(users, rng)
    vectors = _unit_item_vectors(simulator)
    active = torch.ones(batch, dtype=torch.bool, device=device)
    returns = torch.zeros(batch, device=device)
    lengths = torch.zeros(batch, dtype=torch.long, device=device)
    clicks = torch.zeros(batch, device=device)
    counts = torch.zeros(simulator.n_items, device=device)
    rows = torch.arange(batch, device=device)
    # sum of the shown items' unit vectors (one-hot items when the simulator has no vectors)
    vector_sum = torch.zeros(
        batch, vectors.shape[1] if vectors is not None else simulator.n_items, device=device
    )
    information = (
        None if item_popularity is None else torch.as_tensor(self_information(item_popularity)).to(device)
    )
    novelty = torch.zeros(batch, device=device)
    for _ in range(config.horizon):
        k = 1 if config.choice is None else config.choice.slate_size
        items = policy.act(sessions.observation(), sessions.action_mask(), policy_generator, k).long()
        result = sessions.step(items, rng, config.choice)
        weight = active.float()
        returns += result.reward * weight
        clicks += result.click.float() * weight
        lengths += active.long()
        counts.index_add_(0, items.flatten(), weight.repeat_interleave(items.shape[1]))
        if vectors is not None:
            vector_sum += vectors[items].sum(1) * weight[:, None]
        else:
            vector_sum.index_put_(
                (rows[:, None].expand_as(items), items),
                weight[:, None].expand_as(items).clone(),
                accumulate=True,
            )
        if information is not None:
            novelty += information[items].float().mean(1) * weight
        active &= ~(result.terminated | result.truncated)
        if on_step is not None:
            on_step()
        if not bool(active.any()):
            break
    n = lengths.float() * (1 if config.choice is None else config.choice.slate_size)  # items shown
    pairs = n * (n - 1)
    similar = ((vector_sum**2).sum(-1) - n) / pairs.clamp_min(
        1
    )  # sum over pairs i != j of cos = |sum v|^2 - n
    diversity = torch.where(n >= 2, 1.0 - similar, torch.full_like(n, float("nan")))
    return Episodes(
        returns=returns.cpu().numpy(),
        lengths=lengths.cpu().numpy(),
        clicks=clicks.cpu().numpy(),
        diversity=diversity.cpu().numpy(),
        item_counts=counts.cpu().numpy(),
        novelty=None if information is None else (novelty / lengths.clamp_min(1)).cpu().numpy(),
    )


def bootstrap_ci(
    values: np.ndarray, seed: int, level: float = 0.95, resamples: int = 2000
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (no normality assumption on returns)."""
    if len(values) == 0:
        raise ValueError("bootstrap_ci needs at least one value")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def summarize(episodes: Episodes, seed: int = 0) -> dict[str, float | int | list[float] | None]:
    """The per-policy entry of results.json."""
    return {
        "return_mean": float(episodes.returns.mean()),
        "return_ci95": list(bootstrap_ci(episodes.returns, seed)),
        "session_length": float(episodes.lengths.mean()),
        "ctr": float(episodes.clicks.sum() / max(episodes.lengths.sum(), 1)),
        "coverage": float((episodes.item_counts > 0).mean()),
        "diversity": float(np.nanmean(episodes.diversity)) if np.isfinite(episodes.diversity).any() else 0.0,
        "novelty": None if episodes.novelty is None else float(episodes.novelty.mean()),
        "n_users": int(len(episodes.returns)),
    }


def evaluate(
    simulator: UserSimulator,
    policies: dict[str, Policy],
    config: EvalConfig | None = None,
    item_popularity: np.ndarray | None = None,
    progress: bool = False,
) -> dict[str, dict]:
    """Evaluate every policy on the same users; returns {"policies": {name: summary}, "config": ...}.

    Every policy serves slates of `config.choice.slate_size` items (one without `config.choice`).
    `item_popularity` [n_items] (logged interactions per item) adds novelty. `progress` shows a bar
    of session steps over all policies, since on a large catalog the evaluation takes minutes.
    """
    config = config or EvalConfig()
    users = evaluation_users(simulator, config.n_users, config.seed)
    bar = tqdm(
        total=len(policies) * config.horizon,
        desc=f"evaluate {len(policies)} policies",
        unit="step",
        disable=not progress,
        mininterval=2.0,
    )
    results = {}
    with bar:
        for done, (name, policy) in enumerate(policies.items(), start=1):
            bar.set_postfix_str(name, refresh=False)
            episodes = rollout(simulator, policy, users, config, item_popularity, lambda: bar.update())
            bar.update(done * config.horizon - bar.n)  # the steps a session that ended early left
            results[name] = summarize(episodes, config.seed)
    return {"policies": results, "config": asdict(config)}
