"""A run folder says whether its run finished: marked UNFINISHED from its creation until results.json
is written, so a killed or crashed run is never taken for a finished one."""

from __future__ import annotations

import pytest
from test_experiment_dqn import tiny_args

from recgym.agents.studies.training_run import train_and_evaluate
from recgym.runs.folders import UNFINISHED, finish_run_dir, make_run_dir


def test_a_new_folder_is_unfinished_until_its_results_are_written(tmp_path) -> None:
    first = make_run_dir(str(tmp_path), "world", "slateq", 0)
    second = make_run_dir(str(tmp_path), "world", "slateq", 0)
    assert first != second and (first / UNFINISHED).is_file() and (second / UNFINISHED).is_file()
    assert "results.json" in (first / UNFINISHED).read_text()
    finish_run_dir(first, {"policies": {}})
    assert (first / "results.json").is_file() and not (first / UNFINISHED).exists()
    assert (second / UNFINISHED).is_file()


def test_a_run_that_crashes_keeps_its_mark_and_a_finished_run_loses_it(tmp_path, monkeypatch) -> None:
    args = tiny_args(tmp_path)
    with monkeypatch.context() as patch:

        def killed(*args, **kwargs):
            raise KeyboardInterrupt("killed during the evaluation")

        patch.setattr("recgym.agents.studies.training_run.evaluate", killed)
        with pytest.raises(KeyboardInterrupt):
            train_and_evaluate(args)
    train_and_evaluate(args)
    crashed, finished = sorted((tmp_path / "runs").iterdir())
    assert (crashed / UNFINISHED).is_file() and not (crashed / "results.json").exists()
    assert (finished / "results.json").is_file() and not (finished / UNFINISHED).exists()
