"""NeuMF: shapes, a falling loss, score agreeing with score_all in bounded memory, and beating popularity."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recgym.data.splits import leave_last_out
from recgym.data.synthetic import LoggingConfig, generate_logs
from recgym.models import contract
from recgym.models.metrics import evaluate_ranking
from recgym.models.neumf import NeuMF, NeuMFConfig
from recgym.models.training import TrainConfig, fit
from recgym.simulators.world import GroundTruthConfig

SMALL_WORLD = GroundTruthConfig(n_users=120, n_items=150, n_topics=5, dim=8, seed=3)


def small_logs():
    return generate_logs(LoggingConfig(world=SMALL_WORLD, sessions_per_user=12, seed=3))[0]


def test_shapes_and_score_agrees_with_score_all() -> None:
    torch.manual_seed(0)
    model = NeuMF(NeuMFConfig(gmf_dim=4, mlp_layers=(8, 4)), n_users=7, n_items=11)
    users = torch.tensor([0, 3, 6])
    table = model.score_all(users)
    assert table.shape == (3, 11)
    items = torch.tensor([10, 0, 5])
    assert torch.allclose(model.score(users, items), table[torch.arange(3), items], atol=1e-6)
    user_vectors, item_vectors = model.dot_embeddings()
    assert user_vectors.shape == (7, 4) and item_vectors.shape == (11, 4)


def test_loss_falls_and_fit_keeps_best_epoch() -> None:
    log = small_logs()
    split = leave_last_out(log)
    model = NeuMF(NeuMFConfig(), log.n_users, log.n_items)
    report = fit(model, split.train, split.valid, TrainConfig(epochs=4, patience=4), progress=False)
    losses = [row["loss"] for row in report.history]
    assert losses[-1] < losses[0]
    assert report.best_valid_ndcg == max(row["valid_ndcg@10"] for row in report.history)


class PopularityScorer:
    """Scores every item by its number of training interactions, for every user alike."""

    def __init__(self, counts: np.ndarray):
        self.counts = torch.as_tensor(counts, dtype=torch.float32)

    def score(self, users: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        return self.counts[items]

    def score_all(self, users: torch.Tensor) -> torch.Tensor:
        return self.counts.expand(len(users), -1)


def test_neumf_beats_most_popular_on_held_out_hr() -> None:
    log = small_logs()
    split = leave_last_out(log)
    model = NeuMF(NeuMFConfig(), log.n_users, log.n_items)
    fit(model, split.train, split.valid, TrainConfig(epochs=15), progress=False)
    counts = np.bincount(split.train.positives()["item"], minlength=log.n_items)
    neumf = evaluate_ranking(model, split.train, split.test)
    popular = evaluate_ranking(PopularityScorer(counts), split.train, split.test)
    assert neumf["sampled"]["hr@10"] > popular["sampled"]["hr@10"] + 0.05
    assert neumf["full"]["ndcg@10"] > popular["full"]["ndcg@10"]


def test_score_all_runs_the_towers_on_blocks_of_pairs_within_the_memory_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    torch.manual_seed(0)
    model = NeuMF(NeuMFConfig(gmf_dim=4, mlp_layers=(8, 4)), n_users=7, n_items=11)
    users = torch.tensor([6, 0, 3, 3, 5])
    with torch.no_grad():
        one_block = model.score_all(users)
    monkeypatch.setattr(contract, "SCORING_BUDGET", 6 * model._bytes_per_pair())  # 6 pairs a block
    pairs_per_call: list[int] = []
    model.mlp.register_forward_hook(
        lambda module, inputs, output: pairs_per_call.append(output.shape[:-1].numel())
    )
    with torch.no_grad():
        blocked = model.score_all(users)
        expected = model.score(users.repeat_interleave(11), torch.arange(11).repeat(5)).view(5, 11)
    assert pairs_per_call[:-1] and max(pairs_per_call[:-1]) <= 6  # the last call is `score`'s 55 pairs
    assert sum(pairs_per_call[:-1]) == 5 * 11
    assert torch.allclose(blocked, one_block, atol=1e-6)
    assert torch.allclose(blocked, expected, atol=1e-6)
