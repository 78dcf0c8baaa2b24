"""bench/single_env_ab.py measures each tree in its own process and reports the sessions it stepped."""

from __future__ import annotations

import json
from pathlib import Path

from bench_scripts import load_bench

ROOT = Path(__file__).resolve().parents[1]


def test_two_runs_of_one_tree_step_the_same_sessions(tmp_path: Path) -> None:
    bench = load_bench("single_env_ab")
    out = tmp_path / "ab.json"
    args = bench.Args(
        trees=(str(ROOT), str(ROOT)),
        simulators=("world",),
        observations=("dense",),
        steps=60,
        rounds=1,
        out=str(out),
    )
    bench.main(args)
    report = json.loads(out.read_text())
    first, second = report["rows"]
    assert first["reward_sum"] == second["reward_sum"] and first["steps_per_s"] > 0
    assert [row["observation"] for row in report["medians"]] == ["dense"]
