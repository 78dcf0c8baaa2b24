"""bench/large_catalog.py at a small scale: the query-vector policy learns to beat random and popular
from random user embeddings, its queries become personal, and the report is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench_scripts import load_bench


@pytest.mark.slow
def test_the_query_policy_learns_personal_queries_and_beats_random(tmp_path: Path) -> None:
    bench = load_bench("large_catalog")
    out = tmp_path / "large.json"
    args = bench.Args(
        n_items=2_000, n_users=40, n_topics=40, steps=12_800, num_envs=32, eval_users=200, out=str(out)
    )
    report = bench.main(args)
    returns = {row["policy"]: row["return_mean"] for row in report["rows"]}
    assert returns["topk-reinforce"] > max(returns["random"], returns["popular"]) + 0.3
    assert report["query_diagnostics"]["cos_interest"] > 0.3
    assert json.loads(out.read_text())["rows"] == report["rows"]
