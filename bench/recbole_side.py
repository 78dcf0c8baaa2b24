"""RecBole's side of `fit_vs_recbole.py`: train RecBole 1.2.1's NeuMF or SASRec on a dataset, write JSON.

Run it with the RecBole venv's python, never from recgym (RecBole needs numpy<2 and an old ray; see
shared/notes/RECBOLE.md):

    taskset -c 1 env OMP_NUM_THREADS=1 .venv-recbole/bin/python bench/recbole_side.py \
        --model NeuMF --epochs 5 --embedding-size 64 --eval-mode uni100 \
        --data-path /work/shared/data --out bench/results/recbole_ml100k_NeuMF_uni100.json

Protocol (the papers' leave-one-out): each user's interactions in time order, the last one is the test
item, the one before it the validation item; Hit@10 and NDCG@10 against 100 uniform negatives
(`uni100`, redrawn at each evaluation) or all items (`full`). Every rating counts as an interaction.
Training runs exactly `--epochs` epochs (no early stopping); the test and valid figures are those of the
final model (no checkpoint is written); `best_valid_epoch` (1-based) says which epoch validation
NDCG@10 preferred.

Data: `<data-path>/<dataset>/<dataset>.inter` (`--dataset`, default ml-100k; its fields user_id,
item_id, rating and timestamp are loaded). For ml-100k, when that file is missing, the copy inside the
recbole wheel, which is byte for byte what `shared/data/get_ml100k.sh` extracts (RecBole ignores
`data_path` for the name `ml-100k`, so the script sets it after building the config). The JSON names
the file used and its SHA-256.

Models: embedding size D everywhere. NeuMF: mf_embedding_size = mlp_embedding_size = D, MLP [2D, D]
(RecBole's default [128, 64] at D = 64), dropout 0.1, `--neg-samples` uniform negatives per positive
(4 by default, as He et al. 2017 and recgym). SASRec: hidden_size D, inner_size 4D, RecBole's defaults
for layers (2), heads (2) and dropout (0.5), max sequence length 50, CE loss over all items (no sampled
negatives). RecBole's SASRec trains on every prefix of each sequence with the loss on the last position.
`--preset paper` (NeuMF only) takes He et al. 2017's settings instead, as recgym.models.presets does:
mf_embedding_size 8, mlp_embedding_size 32, MLP [32, 16, 8] over the 64-wide concatenation, no
dropout, Adam at 0.001, batches of 256 rows (RecBole counts a positive with its negatives: 51 x 5).

Timing: seconds of each call to the trainer's `_train_epoch` (training only; validation is timed apart).
Peak RSS is the process's `ru_maxrss`, data loading included.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")  # RecBole's own checkpoints (unused here)
warnings.filterwarnings("ignore", module=r"recbole\.")  # pandas 3 / torch deprecations inside RecBole

import recbole  # noqa: E402
import torch  # noqa: E402
from recbole.config import Config  # noqa: E402
from recbole.data import create_dataset, data_preparation  # noqa: E402
from recbole.utils import get_model, get_trainer, init_seed  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=("NeuMF", "SASRec"), required=True)
    parser.add_argument("--epochs", type=int, default=5, help="training epochs, all of them run")
    parser.add_argument("--embedding-size", type=int, default=64, help="D, see the module docstring")
    parser.add_argument("--eval-mode", choices=("uni100", "full"), default="uni100")
    parser.add_argument("--data-path", default="/work/shared/data", help="folder holding <dataset>/")
    parser.add_argument("--dataset", default="ml-100k", help="atomic files <data-path>/<dataset>/<dataset>.*")
    parser.add_argument("--preset", choices=("default", "paper"), default="default", help="NeuMF sizes")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--neg-samples", type=int, default=4, help="NeuMF negatives per positive")
    args = parser.parse_args(argv)
    if args.preset == "paper" and args.model != "NeuMF":
        parser.error("--preset paper is implemented for NeuMF only")
    return args


def recbole_config(args: argparse.Namespace, checkpoint_dir: str) -> dict[str, Any]:
    """The config dict handed to RecBole: protocol, budget and model sizes."""
    d = args.embedding_size
    config: dict[str, Any] = {
        "eval_args": {
            "split": {"LS": "valid_and_test"},
            "order": "TO",
            "mode": args.eval_mode,
            "group_by": "user",
        },
        "metrics": ["Hit", "NDCG"],
        "topk": [10],
        "valid_metric": "NDCG@10",
        "epochs": args.epochs,
        "eval_step": 1,
        "stopping_step": 10**9,
        "seed": args.seed,
        "reproducibility": True,
        "use_gpu": False,
        "show_progress": False,
        "checkpoint_dir": checkpoint_dir,
        "threshold": None,
        "val_interval": None,
    }
    if args.dataset != "ml-100k":  # RecBole's defaults for other names load user and item only
        config["load_col"] = {"inter": ["user_id", "item_id", "rating", "timestamp"]}
    if args.model == "NeuMF" and args.preset == "paper":
        config |= {
            "mf_embedding_size": 8,
            "mlp_embedding_size": 32,
            "mlp_hidden_size": [32, 16, 8],
            "dropout_prob": 0.0,
            "learning_rate": 1e-3,
            "train_batch_size": 256,
            "train_neg_sample_args": {"distribution": "uniform", "sample_num": args.neg_samples},
        }
    elif args.model == "NeuMF":
        config |= {
            "mf_embedding_size": d,
            "mlp_embedding_size": d,
            "mlp_hidden_size": [2 * d, d],
            "train_neg_sample_args": {"distribution": "uniform", "sample_num": args.neg_samples},
        }
    else:
        config |= {
            "hidden_size": d,
            "inner_size": 4 * d,
            "MAX_ITEM_LIST_LENGTH": 50,
            "loss_type": "CE",
            "train_neg_sample_args": None,
        }
    return config


def _metrics(result: dict[str, float]) -> dict[str, float]:
    return {"hr@10": float(result["hit@10"]), "ndcg@10": float(result["ndcg@10"])}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Train and evaluate; returns the JSON row."""
    torch.set_num_threads(args.threads)
    local_inter = Path(args.data_path).resolve() / args.dataset / f"{args.dataset}.inter"
    if args.dataset != "ml-100k" and not local_inter.is_file():
        raise FileNotFoundError(f"dataset {args.dataset!r}: no atomic file {local_inter}")
    with tempfile.TemporaryDirectory() as work:
        cwd = os.getcwd()
        os.chdir(work)  # RecBole writes log_tensorboard/ and saved/ into the working directory
        argv, sys.argv = sys.argv, sys.argv[:1]  # RecBole's Config also parses `--key=value` from argv
        try:
            config = Config(
                model=args.model,
                dataset=args.dataset,
                config_dict=recbole_config(args, str(Path(work) / "saved")),
            )
            if local_inter.is_file():
                config["data_path"] = str(local_inter.parent)
            inter_file = Path(config["data_path"]) / f"{args.dataset}.inter"
            init_seed(config["seed"], config["reproducibility"])
            dataset = create_dataset(config)
            counts = {
                "n_users": dataset.user_num - 1,
                "n_items": dataset.item_num - 1,
                "n_interactions": dataset.inter_num,
            }
            train_data, valid_data, test_data = data_preparation(config, dataset)
            init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
            model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
            trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)

            epoch_seconds: list[float] = []
            valid_history: list[dict[str, float]] = []
            train_epoch, valid_epoch = trainer._train_epoch, trainer._valid_epoch

            def timed_train_epoch(*a: Any, **kw: Any) -> Any:
                start = time.perf_counter()
                loss = train_epoch(*a, **kw)
                epoch_seconds.append(time.perf_counter() - start)
                return loss

            def recorded_valid_epoch(*a: Any, **kw: Any) -> Any:
                score, result = valid_epoch(*a, **kw)
                valid_history.append(_metrics(result))
                return score, result

            trainer._train_epoch, trainer._valid_epoch = timed_train_epoch, recorded_valid_epoch
            start = time.perf_counter()
            trainer.fit(train_data, valid_data, saved=False, show_progress=False, verbose=False)
            fit_seconds = time.perf_counter() - start
            test = trainer.evaluate(test_data, load_best_model=False, show_progress=False)
        finally:
            sys.argv = argv
            os.chdir(cwd)

    return {
        "side": "recbole",
        "model": args.model,
        "dataset": args.dataset,
        "preset": args.preset,
        "eval_mode": args.eval_mode,
        "epochs": args.epochs,
        "embedding_size": args.embedding_size,
        "seed": args.seed,
        "neg_samples": args.neg_samples if args.model == "NeuMF" else None,
        "train_batch_size": int(config["train_batch_size"]),
        "data_file": str(inter_file),
        "data_sha256": hashlib.sha256(inter_file.read_bytes()).hexdigest(),
        **{key: int(value) for key, value in counts.items()},  # before SASRec's prefix augmentation
        "epoch_seconds": epoch_seconds,
        "mean_epoch_seconds": sum(epoch_seconds) / len(epoch_seconds),
        "fit_seconds": fit_seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "test": _metrics(test),
        "valid": valid_history[-1],
        "valid_history": valid_history,
        "best_valid_epoch": 1 + max(range(len(valid_history)), key=lambda i: valid_history[i]["ndcg@10"]),
        "threads": torch.get_num_threads(),
        "recbole_version": recbole.__version__,
        "torch_version": torch.__version__,
        "python_version": sys.version.split()[0],
    }


def write_json_atomic(path: str | Path, payload: dict[str, Any]) -> None:
    """Write JSON to a temp file beside `path`, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(payload, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    out = Path(args.out).resolve()
    row = run(args)
    write_json_atomic(out, row)
    print(
        f"recbole {row['model']} {row['eval_mode']}: {row['mean_epoch_seconds']:.2f} s/epoch, "
        f"fit {row['fit_seconds']:.1f} s, peak RSS {row['peak_rss_mb']:.0f} MB, "
        f"test HR@10 {row['test']['hr@10']:.4f} NDCG@10 {row['test']['ndcg@10']:.4f}, "
        f"valid HR@10 {row['valid']['hr@10']:.4f} NDCG@10 {row['valid']['ndcg@10']:.4f} -> {out}"
    )
    return row


if __name__ == "__main__":
    main()
