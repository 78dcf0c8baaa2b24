"""recgym's user models against RecBole's on the same ml-100k leave-one-out split: quality and speed.

    python bench/fit_vs_recbole.py                       # runs RecBole too (about an hour on one core)
    python bench/fit_vs_recbole.py --recbole-json bench/results/recbole_ml100k_*.json   # reuse its runs

Why: a fitted user model is only as credible as its ranking quality, and the reference numbers for
NeuMF and SASRec on MovieLens come from RecBole and the papers. Both sides use the last interaction of
each user as test, the one before as validation, every rating as an interaction, the same epochs,
embedding size and seed, one thread. RecBole runs in its own venv (`.venv-recbole`, see
shared/notes/RECBOLE.md) through `bench/recbole_side.py`, once per evaluation mode (`uni100`: 100
uniform negatives, recgym's `sampled`; `full`: every item); recgym runs in-process through
`experiments.fit_user_model`. Rows: {"model", "what", "recgym", "recbole", "ratio"} where `what` is
`sampled/hr@10`, `sampled/ndcg@10`, `full/hr@10`, `full/ndcg@10`, `s/epoch` or `peak_rss_mb`, and
ratio = recgym / RecBole. RecBole's s/epoch is the mean over the epochs of both its runs. Sampled
metrics move by about 0.005 between draws of the negatives; timings on a shared VM by up to 1.7x.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import tyro

from experiments import fit_user_model
from recgym.checkpoint import atomic_write_json

ROOT = Path(__file__).resolve().parents[1]
RECBOLE_NAMES = {"neumf": "NeuMF", "sasrec": "SASRec"}
MODES = {"sampled": "uni100", "full": "full"}  # recgym's protocol name -> RecBole's eval mode


@dataclass
class Args:
    """recgym vs RecBole benchmark settings."""

    models: tuple[str, ...] = ("neumf", "sasrec")
    """recgym model names (RecBole: NeuMF, SASRec)."""
    epochs: int = 5
    """Training epochs on both sides, all of them run."""
    dim: int = 64
    """Embedding size on both sides."""
    seed: int = 2020
    """Seed on both sides."""
    threads: int = 1
    """Torch threads on both sides."""
    data_path: str = "/work/shared/data"
    """Folder holding ml-100k/ (RecBole atomic files, made by shared/data/get_ml100k.sh)."""
    recbole_json: tuple[str, ...] = ()
    """Outputs of bench/recbole_side.py to reuse; any (model, mode) not among them is run."""
    recbole_python: str = str(ROOT / ".venv-recbole" / "bin" / "python")
    """Python of the RecBole venv."""
    results_dir: str = "bench/results"
    """Where fresh RecBole runs write recbole_ml100k_<Model>_<mode>.json."""
    runs_dir: str = "runs/fit_vs_recbole"
    """Folder that receives recgym's run folders (`out` of experiments.fit_user_model)."""
    out: str = "bench/results/fit_vs_recbole.json"
    """JSON file for the rows."""


def recbole_results(args: Args) -> dict[tuple[str, str], dict[str, Any]]:
    """RecBole rows keyed by (RecBole model, eval mode): reused from `recbole_json`, else run."""
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for path in args.recbole_json:
        row = json.loads(Path(path).read_text())
        if (row["epochs"], row["embedding_size"]) != (args.epochs, args.dim):
            raise ValueError(
                f"{path}: epochs {row['epochs']}, embedding size {row['embedding_size']}; "
                f"this run asks for {args.epochs} and {args.dim}"
            )
        results[(row["model"], row["eval_mode"])] = row
    for model in args.models:
        for mode in MODES.values():
            key = (RECBOLE_NAMES[model], mode)
            if key in results:
                continue
            out = Path(args.results_dir) / f"recbole_ml100k_{key[0]}_{mode}.json"
            command = [
                args.recbole_python,
                str(ROOT / "bench" / "recbole_side.py"),
                *("--model", key[0], "--eval-mode", mode, "--epochs", str(args.epochs)),
                *("--embedding-size", str(args.dim), "--seed", str(args.seed)),
                *("--threads", str(args.threads), "--data-path", args.data_path, "--out", str(out)),
            ]
            print("running", " ".join(command), flush=True)
            env = os.environ | {"OMP_NUM_THREADS": str(args.threads)}
            subprocess.run(command, check=True, env=env)
            results[key] = json.loads(out.read_text())
    return results


def _best_epoch(row: dict[str, Any]) -> int:
    """1-based epoch of the best validation NDCG@10 in a recbole_side.py row."""
    history = row["valid_history"]
    return 1 + max(range(len(history)), key=lambda i: history[i]["ndcg@10"])


def fit_recgym(args: fit_user_model.Args) -> dict[str, Any]:
    """experiments.fit_user_model.main in a fresh process, so that its peak RSS is its own."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fit_user_model.main, args).result()


def main(args: Args) -> list[dict[str, Any]]:
    recbole = recbole_results(args)
    recgym: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for model in args.models:
        fit = fit_recgym(
            fit_user_model.Args(
                model=model,
                data="movielens",
                path=str(Path(args.data_path) / "ml-100k"),
                out=args.runs_dir,
                epochs=args.epochs,
                dim=args.dim,
                seed=args.seed,
                threads=args.threads,
                progress=False,
            )
        )
        recgym[model] = fit
        theirs = {protocol: recbole[(RECBOLE_NAMES[model], mode)] for protocol, mode in MODES.items()}
        best = ", ".join(f"{protocol} {_best_epoch(row)}" for protocol, row in theirs.items())
        notes.append(
            f"{model}: recgym ran {fit['epochs']} epochs, reports its best ({fit.get('best_epoch', '?')}); "
            f"RecBole ran {args.epochs} and reports its last (best by validation: {best})"
        )
        pairs: dict[str, tuple[float, float]] = {
            f"{protocol}/{metric}": (fit["metrics"][protocol][metric], theirs[protocol]["test"][metric])
            for protocol in MODES
            for metric in ("hr@10", "ndcg@10")
        }
        their_epochs = [s for row in theirs.values() for s in row["epoch_seconds"]]
        pairs["s/epoch"] = (
            sum(fit["epoch_seconds"]) / len(fit["epoch_seconds"]),
            sum(their_epochs) / len(their_epochs),
        )
        pairs["peak_rss_mb"] = (fit["peak_rss_mb"], max(row["peak_rss_mb"] for row in theirs.values()))
        for what, (ours, ref) in pairs.items():
            rows.append({"model": model, "what": what, "recgym": ours, "recbole": ref, "ratio": ours / ref})

    print(
        f"\nml-100k leave-one-out, {args.epochs} epochs, dim {args.dim}, seed {args.seed}, "
        f"{args.threads} thread(s)"
    )
    print(f"{'model':8s} {'what':16s} {'recgym':>10s} {'recbole':>10s} {'recgym/recbole':>15s}")
    for row in rows:
        print(
            f"{row['model']:8s} {row['what']:16s} {row['recgym']:>10.4g} {row['recbole']:>10.4g} "
            f"{row['ratio']:>15.2f}"
        )
    print("\n".join(notes))
    atomic_write_json(
        args.out,
        {
            "settings": asdict(args),
            "rows": rows,
            "notes": notes,
            "recgym": recgym,
            "recbole": {f"{model}_{mode}": row for (model, mode), row in recbole.items()},
        },
    )
    return rows


if __name__ == "__main__":
    main(tyro.cli(Args))
