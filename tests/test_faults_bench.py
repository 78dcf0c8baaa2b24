"""bench/faults.py end to end: every kill, damaged record and damaged or unwritable cache it stages is
survived or refused by name, and its table is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench_scripts import load_bench


@pytest.mark.slow
def test_every_fault_is_survived_or_refused_by_name(tmp_path: Path) -> None:
    bench = load_bench("faults")
    out = tmp_path / "faults.json"
    outcomes = bench.main(bench.Args(out=str(out)))
    failed = [outcome for outcome in outcomes if not outcome.ok]
    assert not failed, "\n".join(f"{o.case}: expected {o.expected}, observed {o.observed}" for o in failed)
    assert len(outcomes) >= 11
    assert [row["case"] for row in json.loads(out.read_text())] == [o.case for o in outcomes]
