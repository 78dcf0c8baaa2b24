"""The published settings of NeuMF and SASRec, one call away, so a fit can be set up like the paper.

NeuMF: He et al., "Neural Collaborative Filtering", WWW 2017, with the settings of the authors' code
(github.com/hexiangnan/neural_collaborative_filtering, `NeuMF.py --num_factors 8 --layers
[64,32,16,8] --num_neg 4 --lr 0.001 --learner adam --batch_size 256 --reg_mf 0 --reg_layers
[0,0,0,0]`): 8 GMF predictive factors, an MLP over two 32-wide embeddings with layers 64-32-16-8, 4
uniform negatives per positive redrawn every epoch, Adam at 0.001, batches of 256, no L2 and no
dropout, trained from scratch (the paper's pre-trained variant initialises from separately trained
GMF and MLP models and continues with SGD; recgym has no such step).

SASRec: Kang & McAuley, "Self-Attentive Sequential Recommendation", ICDM 2018, with its MovieLens-1M
settings: d = 50, 2 self-attention blocks of 1 head, dropout 0.2, the last 200 items, binary
cross-entropy against one sampled negative per position, Adam at 0.001, batches of 128 sequences, no
L2 on the embeddings.

Where recgym's models lack a knob the papers use, the preset keeps recgym's behaviour:
- SASRec's Adam uses beta2 = 0.98; recgym's training loop uses torch's Adam defaults (0.9, 0.999).
- SASRec trains on each user's last 200 items once per epoch; recgym cuts every user's whole history
  into 200-item chunks, so users with longer histories give more than one sequence per epoch.
- SASRec (its TensorFlow code) normalises only the queries before attention and pads on the left;
  recgym's blocks are pre-norm over queries, keys and values, with sequences left-aligned.
- Both papers train for a fixed budget (NeuMF's code: 20 epochs; SASRec's: 201, evaluated every 20);
  the presets keep recgym's early stopping on validation NDCG@10 (`TrainConfig.epochs`, `patience`).
"""

from __future__ import annotations

import dataclasses

from recgym.models.autorec import AutoRecConfig
from recgym.models.neumf import NeuMFConfig
from recgym.models.sasrec import SASRecConfig
from recgym.models.train_config import TrainConfig
from recgym.models.zoo import ArchitectureConfig

PAPER_PRESETS: dict[str, tuple[ArchitectureConfig, TrainConfig]] = {
    "neumf": (
        NeuMFConfig(gmf_dim=8, mlp_layers=(64, 32, 16, 8), dropout=0.0),
        TrainConfig(batch_size=256, learning_rate=1e-3, weight_decay=0.0, negatives=4),
    ),
    "sasrec": (
        SASRecConfig(dim=50, layers=2, heads=1, dropout=0.2, max_len=200, loss="bce"),
        TrainConfig(sequence_batch_size=128, learning_rate=1e-3, weight_decay=0.0),
    ),
}
"""Model name -> (architecture, training settings) as published; see the module docstring."""


def paper_preset(model_name: str) -> tuple[ArchitectureConfig, TrainConfig]:
    """The architecture config and `TrainConfig` of model_name's paper.

    :raises ValueError: for a model without a published preset, naming those that have one.
    """
    if model_name not in PAPER_PRESETS:
        raise ValueError(
            f"no paper preset for model {model_name!r}; presets exist for {sorted(PAPER_PRESETS)}"
        )
    return PAPER_PRESETS[model_name]


def with_dim(architecture: ArchitectureConfig, dim: int) -> ArchitectureConfig:
    """architecture with its embedding size set to dim, as `--dim` sets it: NeuMF's GMF factors and MLP
    embeddings (its MLP layers become 2*dim, 2*dim, dim, said in a line), AutoRec's hidden units, the
    others' `dim`."""
    if isinstance(architecture, NeuMFConfig):
        print(f"--dim {dim}: NeuMF with {dim} GMF factors and MLP layers ({2 * dim}, {2 * dim}, {dim})")
        return dataclasses.replace(architecture, gmf_dim=dim, mlp_layers=(2 * dim, 2 * dim, dim))
    if isinstance(architecture, AutoRecConfig):
        return dataclasses.replace(architecture, hidden=dim)
    return dataclasses.replace(architecture, dim=dim)
