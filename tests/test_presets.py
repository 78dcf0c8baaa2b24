"""The papers' presets build models of the published sizes and plug into a user-model config."""

from __future__ import annotations

import pytest
from torch import nn

from recgym.models.fitted import UserModelConfig
from recgym.models.presets import paper_preset
from recgym.models.zoo import build_model


def test_neumf_preset_is_he_et_al_2017() -> None:
    architecture, train = paper_preset("neumf")
    model = build_model("neumf", architecture, n_users=10, n_items=20)
    assert model.gmf_user.weight.shape == (10, 8) and model.gmf_item.weight.shape == (20, 8)  # 8 factors
    assert model.mlp_user.weight.shape == (10, 32) and model.mlp_item.weight.shape == (20, 32)
    layers = [(m.in_features, m.out_features) for m in model.mlp if isinstance(m, nn.Linear)]
    assert layers == [(64, 32), (32, 16), (16, 8)]  # MLP 64-32-16-8
    assert (model.head.in_features, model.head.out_features) == (8 + 8, 1)
    assert all(m.p == 0.0 for m in model.mlp if isinstance(m, nn.Dropout))
    assert (train.negatives, train.learning_rate, train.batch_size, train.weight_decay) == (4, 1e-3, 256, 0.0)


def test_sasrec_preset_is_kang_and_mcauley_2018() -> None:
    architecture, train = paper_preset("sasrec")
    model = build_model("sasrec", architecture, n_users=10, n_items=20)
    assert model.item_embedding.weight.shape == (21, 50)  # d = 50, plus the padding row
    assert model.positions.weight.shape == (200, 50)  # the last 200 items
    assert len(model.blocks) == 2 and all(block.heads == 1 for block in model.blocks)
    dropouts = {m.p for m in model.modules() if isinstance(m, nn.Dropout)}
    assert dropouts == {0.2}
    assert architecture.loss == "bce"  # one sampled negative per position
    assert (train.learning_rate, train.sequence_batch_size, train.weight_decay) == (1e-3, 128, 0.0)


def test_a_preset_is_a_user_model_config_away() -> None:
    for name in ("neumf", "sasrec"):
        architecture, train = paper_preset(name)
        config = UserModelConfig(architecture, train=train)
        assert config.architecture == architecture and config.train == train


def test_a_model_without_a_paper_preset_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"no paper preset for model 'mf'.*\['neumf', 'sasrec'\]"):
        paper_preset("mf")
