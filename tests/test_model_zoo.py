"""Every model of the zoo: shapes, score agreeing with score_all, a falling loss, learning what it
should (order for the sequence models, taste for the id-based ones), and a simulation state that
matches the model's own scores and costs the same at every step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from recgym.data.interactions import InteractionLog
from recgym.data.splits import leave_last_out
from recgym.data.synthetic import LoggingConfig, generate_logs
from recgym.models import contract
from recgym.models.autorec import AutoRecConfig
from recgym.models.caser import CaserConfig
from recgym.models.fitted import UserModelConfig
from recgym.models.gru4rec import GRU4RecConfig
from recgym.models.metrics import evaluate_ranking
from recgym.models.mf import MFConfig
from recgym.models.neumf import NeuMFConfig
from recgym.models.popularity import MostPopular
from recgym.models.sasrec import SASRecConfig
from recgym.models.sequential import last_items
from recgym.models.training import TrainConfig, fit
from recgym.models.zoo import MODEL_NAMES, build_model, default_architecture
from recgym.simulators.world import GroundTruthConfig

SEQUENCE_MODELS = ("gru4rec", "caser", "sasrec")
ID_MODELS = ("neumf", "mf", "autorec")

TINY = {
    "neumf": NeuMFConfig(gmf_dim=8, mlp_layers=(16, 8)),
    "mf": MFConfig(dim=8),
    "autorec": AutoRecConfig(hidden=16),
    "gru4rec": GRU4RecConfig(dim=16, hidden=16, max_len=8, dropout=0.0),
    "caser": CaserConfig(dim=16, max_len=3, dropout=0.0, chunk=8),
    "sasrec": SASRecConfig(dim=16, heads=2, max_len=8, dropout=0.0),
}


def cyclic_log(n_users: int = 120, n_items: int = 150, length: int = 12, seed: int = 0) -> InteractionLog:
    """Each user consumes consecutive items (s, s+1, s+2, ... mod n_items) from a random start: the
    next item is fully determined by the last one, and every item is about equally popular."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n_items, n_users)
    users = np.repeat(np.arange(n_users), length)
    steps = np.tile(np.arange(length), n_users)
    frame = pd.DataFrame(
        {"user": users, "item": (starts[users] + steps) % n_items, "rating": 1.0, "timestamp": steps}
    )
    return InteractionLog.from_frame(frame, feedback="click", name="cyclic")


@pytest.fixture(scope="module")
def cyclic() -> InteractionLog:
    return cyclic_log()


@pytest.fixture(scope="module")
def taste_log() -> InteractionLog:
    world = GroundTruthConfig(n_users=120, n_items=150, n_topics=5, dim=8, seed=3)
    return generate_logs(LoggingConfig(world=world, sessions_per_user=12, seed=3))[0]


def tiny_model(name: str, log: InteractionLog):
    torch.manual_seed(0)
    model = build_model(name, TINY[name], log.n_users, log.n_items)
    model.set_context(log)
    return model.eval()


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_shapes_and_score_agrees_with_score_all(name: str, cyclic: InteractionLog) -> None:
    model = tiny_model(name, cyclic)
    users = torch.tensor([0, 3, 7, 3])
    with torch.no_grad():
        table = model.score_all(users)
        items = torch.tensor([149, 0, 42, 5])
        pairs = model.score(users, items)
    assert table.shape == (4, cyclic.n_items)
    assert torch.allclose(pairs, table[torch.arange(4), items], atol=1e-5)
    assert model.item_vectors().shape[0] == cyclic.n_items


def test_unknown_model_and_mismatched_config_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown user model 'bert4rec'"):
        build_model("bert4rec", None, 3, 3)
    with pytest.raises(TypeError, match="sasrec needs a SASRecConfig"):
        build_model("sasrec", MFConfig(), 3, 3)
    with pytest.raises(ValueError, match="unknown user model 'bert4rec'"):
        default_architecture("bert4rec")
    with pytest.raises(TypeError, match="TrainConfig is not the config of a model of the zoo"):
        UserModelConfig(TrainConfig())  # type: ignore[arg-type]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_loss_falls_and_best_epoch_is_kept(name: str, cyclic: InteractionLog, tmp_path) -> None:
    split = leave_last_out(cyclic)
    model = tiny_model(name, split.train)
    config = TrainConfig(epochs=4, patience=4, learning_rate=1e-2, sequence_batch_size=16)
    report = fit(model, split.train, split.valid, config, progress=False, checkpoint_dir=tmp_path / "best")
    losses = [row["loss"] for row in report.history]
    assert losses[-1] < losses[0]
    assert report.best_valid_ndcg == max(row["valid_ndcg@10"] for row in report.history)
    assert (tmp_path / "best").exists()


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
@pytest.mark.slow
def test_sequence_models_learn_what_comes_next(name: str, cyclic: InteractionLog) -> None:
    split = leave_last_out(cyclic)
    model = tiny_model(name, split.train)
    config = TrainConfig(epochs=30, patience=30, learning_rate=1e-2, sequence_batch_size=16)
    fit(model, split.train, split.valid, config, progress=False)
    model.set_context(split.train.with_frame(pd.concat([split.train.frame, split.valid.frame])))
    learned = evaluate_ranking(model, split.train, split.test)
    popular = evaluate_ranking(MostPopular(split.train), split.train, split.test)
    assert learned["full"]["hr@10"] > 0.8
    assert learned["full"]["hr@10"] > popular["full"]["hr@10"] + 0.5


@pytest.mark.parametrize("name", ID_MODELS)
@pytest.mark.slow
def test_id_models_beat_most_popular_on_held_out_data(name: str, taste_log: InteractionLog) -> None:
    split = leave_last_out(taste_log)
    torch.manual_seed(0)
    model = build_model(name, None, taste_log.n_users, taste_log.n_items)
    fit(model, split.train, split.valid, TrainConfig(epochs=15), progress=False)
    learned = evaluate_ranking(model, split.train, split.test)
    popular = evaluate_ranking(MostPopular(split.train), split.train, split.test)
    assert learned["sampled"]["hr@10"] > popular["sampled"]["hr@10"] + 0.05


def extended(log: InteractionLog, users: torch.Tensor, items: list[torch.Tensor]) -> InteractionLog:
    """log plus, for each user, the given items consumed in order after everything logged."""
    last = int(log.frame["timestamp"].max())
    rows = [
        pd.DataFrame({"user": users.numpy(), "item": step.numpy(), "rating": 1.0, "timestamp": last + 1 + t})
        for t, step in enumerate(items)
    ]
    return log.with_frame(pd.concat([log.frame, *rows]))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_simulation_state_scores_like_the_model_with_the_consumed_items_in_context(
    name: str, cyclic: InteractionLog
) -> None:
    short = cyclic.with_frame(cyclic.frame[cyclic.frame["timestamp"] < 3])  # 3 items per user
    model = tiny_model(name, short)
    users = torch.tensor([0, 5, 9])
    consumed = [torch.tensor([1, 2, 3]), torch.tensor([10, 20, 30]), torch.tensor([4, 4, 4])]
    with torch.no_grad():
        state = model.begin(users)
        assert torch.allclose(model.state_score_all(state), model.score_all(users), atol=1e-5)
        for items in consumed:  # 3 + 3 items: within every tiny model's window except Caser's (3)
            state = model.advance(state, items)
        model.set_context(extended(short, users, consumed))
        expected = model.score_all(users)
        assert torch.allclose(model.state_score_all(state), expected, atol=1e-4)
        assert torch.allclose(
            model.state_score(state, consumed[0]), expected[torch.arange(3), consumed[0]], atol=1e-4
        )


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_a_step_costs_the_same_however_long_the_history(name: str, cyclic: InteractionLog) -> None:
    model = tiny_model(name, cyclic)
    with torch.no_grad():
        state = model.begin(torch.arange(4))
    shapes = {key: value.shape for key, value in state.items()}
    costs = []
    with torch.no_grad():
        for step in range(3 * TINY[name].max_len):
            counter = FlopCounterMode(display=False)
            with counter:
                state = model.advance(state, torch.full((4,), step % cyclic.n_items))
            costs.append(counter.get_total_flops())
            assert {key: value.shape for key, value in state.items()} == shapes
    assert costs[0] > 0
    assert all(cost == costs[0] for cost in costs)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_advance_with_a_mask_moves_only_the_masked_rows(name: str, cyclic: InteractionLog) -> None:
    model = tiny_model(name, cyclic)
    users, items = torch.tensor([0, 5, 9]), torch.tensor([1, 2, 3])
    mask = torch.tensor([True, False, True])
    with torch.no_grad():
        state = model.begin(users)
        masked = model.advance(state, items, mask=mask)
        unmasked = model.advance(state, items)
    for key in state:
        assert torch.equal(masked[key][1], state[key][1])
        assert torch.allclose(masked[key][mask], unmasked[key][mask])


@pytest.mark.parametrize("name", SEQUENCE_MODELS)
def test_users_are_encoded_in_blocks_within_the_memory_budget(
    name: str, cyclic: InteractionLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tiny_model(name, cyclic)
    users = torch.arange(cyclic.n_users).flip(0)  # every user, in no particular order
    items = torch.arange(cyclic.n_users) % cyclic.n_items
    with torch.no_grad():
        table, pairs = model.score_all(users), model.score(users, items)
    monkeypatch.setattr(contract, "SCORING_BUDGET", 7 * model.encode_bytes_per_user())
    encoded: list[int] = []
    encode = model.encode
    monkeypatch.setattr(
        model, "encode", lambda sequences, who: encoded.append(len(who)) or encode(sequences, who)
    )
    with torch.no_grad():
        assert torch.allclose(model.score_all(users), table, atol=1e-6)
        assert torch.allclose(model.score(users, items), pairs, atol=1e-6)
    assert max(encoded) == 7 and sum(encoded) == 2 * cyclic.n_users


def test_sasrec_begins_in_blocks_with_the_state_of_one_block(
    cyclic: InteractionLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = tiny_model("sasrec", cyclic)
    users = torch.tensor([3, 0, 7, 3, 119, 50, 1])
    encoded: list[int] = []
    forward = model._forward
    with torch.no_grad():
        whole = model.begin(users)
        monkeypatch.setattr(contract, "SCORING_BUDGET", 2 * model.encode_bytes_per_user())
        monkeypatch.setattr(
            model, "_forward", lambda sequences: encoded.append(len(sequences)) or forward(sequences)
        )
        blocked = model.begin(users)
        after = model.advance(blocked, torch.arange(7))
        expected = model.advance(whole, torch.arange(7))
    assert encoded == [2, 2, 2, 1]
    assert whole.keys() == blocked.keys()
    for key in whole:
        assert torch.allclose(blocked[key], whole[key], atol=1e-6), key
        assert torch.allclose(after[key], expected[key], atol=1e-6), key


def test_context_windows_hold_each_users_last_items_left_aligned() -> None:
    indptr = np.array([0, 0, 2, 7])  # user 0: nothing; user 1: items 5, 6; user 2: items 0..4
    window, length = last_items(indptr, np.array([5, 6, 0, 1, 2, 3, 4]), 3)
    assert window.tolist() == [[0, 0, 0], [6, 7, 0], [3, 4, 5]]  # item + 1, 0 = empty slot
    assert length.tolist() == [0, 2, 3]
