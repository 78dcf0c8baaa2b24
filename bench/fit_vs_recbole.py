"""recgym's user models against RecBole's on the same leave-one-out split: quality and speed.

    python bench/fit_vs_recbole.py                       # runs RecBole too (about an hour on one core)
    python bench/fit_vs_recbole.py --recbole-json bench/results/recbole_ml100k_*.json   # reuse its runs
    python bench/fit_vs_recbole.py --data ml-1m-synthetic --preset paper --models neumf --epochs 1 \
        --modes sampled --out bench/results/fit_vs_recbole_ml-1m-synthetic.json   # a NeuMF epoch on 1M

`--data ml-1m-synthetic` is a seeded log of MovieLens-1M's shape (6,040 users, 3,706 items, 1,000,209
ratings 1-5 with timestamps, power-law item popularity, at least 20 ratings per user; see
bench/power_law_log.py), written once as a RecBole atomic file under `--synthetic-dir` (git ignores
bench/data/) and read from there by both sides. `--preset paper` takes the papers' settings
(recgym.models.presets; RecBole's side has NeuMF's only) instead of the defaults at `--dim`.

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

import dataclasses
import json
import multiprocessing
import os
import subprocess
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import tyro
from power_law_log import power_law_frame, write_atomic_inter

from recgym.data.sources import MovieLensLogs
from recgym.models.fit_run import FitRun, run_fit
from recgym.models.fitted import UserModelConfig
from recgym.models.presets import paper_preset, with_dim
from recgym.models.zoo import default_architecture
from recgym.runs.checkpoint import atomic_write_json

ROOT = Path(__file__).resolve().parents[1]
RECBOLE_NAMES = {"neumf": "NeuMF", "sasrec": "SASRec"}
MODES = {"sampled": "uni100", "full": "full"}  # recgym's protocol name -> RecBole's eval mode


@dataclass
class Args:
    """recgym vs RecBole benchmark settings."""

    models: tuple[str, ...] = ("neumf", "sasrec")
    """recgym model names (RecBole: NeuMF, SASRec)."""
    data: Literal["ml-100k", "ml-1m-synthetic"] = "ml-100k"
    """ml-100k from `data_path`, or the synthetic log of MovieLens-1M's shape in `synthetic_dir`."""
    preset: Literal["default", "paper"] = "default"
    """Each side's defaults at `dim`, or the papers' settings (then `dim` is unused)."""
    modes: tuple[Literal["sampled", "full"], ...] = ("sampled", "full")
    """Protocols to compare; RecBole runs once per protocol (uni100, full)."""
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
    synthetic_dir: str = "bench/data"
    """Folder that holds (or receives) ml-1m-synthetic/ml-1m-synthetic.inter."""
    recbole_json: tuple[str, ...] = ()
    """Outputs of bench/recbole_side.py to reuse; any (model, mode) not among them is run."""
    recbole_python: str = str(ROOT / ".venv-recbole" / "bin" / "python")
    """Python of the RecBole venv."""
    results_dir: str = "bench/results"
    """Where fresh RecBole runs write recbole_<data>_<Model>_<mode>[_paper].json."""
    runs_dir: str = "runs/fit_vs_recbole"
    """Folder that receives recgym's run folders (`out` of experiments.fit_user_model)."""
    out: str = "bench/results/fit_vs_recbole.json"
    """JSON file for the rows."""


SYNTHETIC_SHAPE = {"n_users": 6_040, "n_items": 3_706, "n_interactions": 1_000_209, "min_per_user": 20}
"""MovieLens-1M's users, items, ratings and least ratings per user."""
SYNTHETIC_SEED = 0
"""Seed of the synthetic log (apart from the fits' seed, so every fit sees the same file)."""


def data_folder(args: Args) -> Path:
    """The folder holding `<data>/<data>.inter`, the synthetic file written there first if missing."""
    if args.data == "ml-100k":
        return Path(args.data_path)
    inter = Path(args.synthetic_dir) / args.data / f"{args.data}.inter"
    if not inter.is_file():
        frame = power_law_frame(**SYNTHETIC_SHAPE, ratings=True, timestamps=True, seed=SYNTHETIC_SEED)
        write_atomic_inter(frame, inter)
    return Path(args.synthetic_dir)


def _tag(args: Args) -> str:
    return ("ml100k" if args.data == "ml-100k" else args.data) + ("_paper" if args.preset == "paper" else "")


def recbole_results(args: Args, folder: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """RecBole rows keyed by (RecBole model, eval mode): reused from `recbole_json`, else run."""
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for path in args.recbole_json:
        row = json.loads(Path(path).read_text())
        theirs = (
            row["epochs"],
            row["embedding_size"],
            row.get("dataset", "ml-100k"),
            row.get("preset", "default"),
        )
        if theirs != (args.epochs, args.dim, args.data, args.preset):
            raise ValueError(
                f"{path}: epochs, embedding size, dataset and preset {theirs}; this run asks for "
                f"{(args.epochs, args.dim, args.data, args.preset)}"
            )
        results[(row["model"], row["eval_mode"])] = row
    for model in args.models:
        for mode in (MODES[protocol] for protocol in args.modes):
            key = (RECBOLE_NAMES[model], mode)
            if key in results:
                continue
            out = Path(args.results_dir) / f"recbole_{_tag(args)}_{key[0]}_{mode}.json"
            command = [
                args.recbole_python,
                str(ROOT / "bench" / "recbole_side.py"),
                *("--model", key[0], "--eval-mode", mode, "--epochs", str(args.epochs)),
                *("--embedding-size", str(args.dim), "--seed", str(args.seed), "--preset", args.preset),
                *("--threads", str(args.threads), "--data-path", str(folder), "--dataset", args.data),
                *("--out", str(out)),
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


def fit_recgym(run: FitRun) -> dict[str, Any]:
    """`run_fit` (what experiments.fit_user_model runs) in a fresh process, so that its peak RSS is
    its own."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_fit, run).result()


def recgym_run(args: Args, model: str, folder: Path) -> FitRun:
    """The fit of one model: `dim` applied, or the paper's preset; the epochs and seed of both sides."""
    if args.preset == "paper":
        architecture, train = paper_preset(model)
    else:
        architecture = with_dim(default_architecture(model), args.dim)
        train = UserModelConfig().train
    train = dataclasses.replace(train, epochs=args.epochs, seed=args.seed)
    config = UserModelConfig(architecture, train=train)
    source = MovieLensLogs(str(folder / args.data))  # the folder's one .inter file (ml-100k: its u.data)
    return FitRun(source, config, out=args.runs_dir, threads=args.threads)


def main(args: Args) -> list[dict[str, Any]]:
    folder = data_folder(args)
    recbole = recbole_results(args, folder)
    recgym: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for model in args.models:
        fit = fit_recgym(recgym_run(args, model, folder))
        recgym[model] = fit
        theirs = {protocol: recbole[(RECBOLE_NAMES[model], MODES[protocol])] for protocol in args.modes}
        best = ", ".join(f"{protocol} {_best_epoch(row)}" for protocol, row in theirs.items())
        notes.append(
            f"{model}: recgym ran {fit['epochs']} epochs, reports its best ({fit.get('best_epoch', '?')}); "
            f"RecBole ran {args.epochs} and reports its last (best by validation: {best})"
        )
        pairs: dict[str, tuple[float, float]] = {
            f"{protocol}/{metric}": (fit["metrics"][protocol][metric], theirs[protocol]["test"][metric])
            for protocol in args.modes
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
        f"\n{args.data} leave-one-out, {args.epochs} epochs, "
        f"{'paper preset' if args.preset == 'paper' else f'dim {args.dim}'}, seed {args.seed}, "
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
