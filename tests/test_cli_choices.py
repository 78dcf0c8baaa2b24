"""Typed choices on the command line (`agent:sb3-ppo`, `data:movielens`, `user-model.model:sasrec`,
`dynamics:hand-set`): a config holds only the alternative chosen, `--help` shows only what applies, and
the alternatives are whatever is registered when the line is parsed."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from dataclasses import dataclass
from typing import ClassVar

import pytest

from recgym.agents.sb3.algorithms import PPOConfig
from recgym.agents.slateq import SlateQConfig
from recgym.agents.studies.comparison import CompareConfig
from recgym.agents.studies.sim_to_real import SimToRealConfig
from recgym.agents.studies.training_run import RunConfig, open_run_folder
from recgym.agents.zoo import AGENTS, register_agent
from recgym.choices import ChoiceError
from recgym.data.sources import SOURCES, MovieLensLogs, SyntheticLogs, register_source
from recgym.experiments.common import parse
from recgym.experiments.tradeoff import Args as TradeoffArgs
from recgym.models.fitted import UserModelConfig
from recgym.models.sasrec import SASRecConfig
from recgym.runs.config_record import config_record
from recgym.world import world_name


def test_typed_choices_and_options_come_in_any_order() -> None:
    new = "agent:sb3-ppo --agent.n-steps 64 data:movielens --data.path ml --data.likes --seed 3"
    args = parse(RunConfig, new.split())
    assert args.agent == PPOConfig(n_steps=64) and args.data == MovieLensLogs("ml", likes=True)
    assert args.seed == 3 and isinstance(args.user_model.architecture, type(UserModelConfig().architecture))
    reordered = "--seed 3 data:movielens --data.likes --data.path ml agent:sb3-ppo --agent.n-steps 64"
    assert parse(RunConfig, reordered.split()) == args


def test_studies_take_the_runs_options_under_run() -> None:
    args = parse(TradeoffArgs, ["--seeds", "0", "1", "run.agent:slateq", "--run.total-timesteps", "100"])
    assert args.seeds == (0, 1) and type(args.run.agent) is SlateQConfig and args.run.total_timesteps == 100
    compare = parse(CompareConfig, ["--agent-options.slateq.gradient-steps", "3", "--agents", "slateq"])
    assert compare.agent_config("slateq").gradient_steps == 3 and compare.agents == ("slateq",)
    assert compare.agent_config("sb3-ppo") == PPOConfig()  # not given: the agent's defaults
    study = parse(SimToRealConfig, ["--no-train-in-truth", "--run.horizon", "5"])
    assert not study.train_in_truth and study.run.horizon == 5


def test_the_flags_of_earlier_versions_are_refused(capsys) -> None:
    """No rewriting of old spellings before 1.0 (CHANGELOG.md says which changed)."""
    for old in (["--agent", "sb3-ppo"], ["--no-learn-dynamics"], ["--data", "movielens", "--path", "ml"]):
        with pytest.raises(SystemExit):
            parse(RunConfig, old)


@pytest.mark.parametrize("name", AGENTS.names())
def test_every_registered_agent_is_the_agent_its_choice_names(name: str, tmp_path) -> None:
    """`agent:<name>` gives that agent's config, first or last on the line, and names the run folder
    after it (the default agent's subclass must not answer for its base)."""
    for argv in ([f"agent:{name}", "--out", str(tmp_path)], ["--out", str(tmp_path), f"agent:{name}"]):
        args = parse(RunConfig, argv)
        assert type(args.agent) is AGENTS[name], argv
        assert config_record(args)["agent"]["kind"] == name
    folder = open_run_folder(args, {})
    assert folder.name.split("__")[:2] == [world_name(args.world), name]


def test_a_typo_in_a_choice_is_answered_with_the_closest_name() -> None:
    with pytest.raises(ChoiceError, match="did you mean 'sb3-ppo'"):
        AGENTS["sb3-ppp"]
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()) as error:
        parse(RunConfig, ["agent:sb3-ppp"])
    assert "did you mean 'agent:sb3-ppo'?" in error.getvalue()


def test_help_shows_only_the_chosen_agents_options() -> None:
    output = io.StringIO()
    with contextlib.redirect_stdout(output), pytest.raises(SystemExit):
        parse(RunConfig, ["agent:sb3-ppo", "--help"])
    text = output.getvalue()
    assert "--agent.n-steps" in text and "--agent.gradient-steps" not in text


def test_a_run_records_which_alternative_it_chose() -> None:
    record = config_record(RunConfig(agent=PPOConfig(), data=SyntheticLogs()))
    assert record["agent"]["kind"] == "sb3-ppo" and record["data"]["kind"] == "synthetic"
    assert record["user_model"]["architecture"]["kind"] == "neumf" and record["dynamics"]["kind"] == "learn"
    assert "kind" not in record["choice"]  # one type, no choice


def test_a_model_cache_key_holds_the_chosen_architecture_only() -> None:
    fields = UserModelConfig(SASRecConfig(dim=16)).key_fields()
    assert fields["model"] == "sasrec" and fields["sasrec"]["dim"] == 16
    assert not {"neumf", "mf", "autorec", "gru4rec", "caser", "architecture"} & set(fields)


def test_a_class_registered_after_import_is_a_choice_of_every_command_line() -> None:
    """The choices are read when a command line is parsed: an agent registered later (as a user's own
    module does) is `agent:<name>`, an `--agents` name with its `--agent-options`, and a data source
    `data:<name>`."""

    @dataclass(frozen=True)
    class LateConfig(SlateQConfig):
        name: ClassVar[str] = "late-test-agent"
        extra: int = 1

    @dataclass(frozen=True)
    class LateLogs(SyntheticLogs):
        scale: int = 1

    register_agent(LateConfig)
    register_source("late-test-logs", LateLogs)
    try:
        args = parse(RunConfig, ["agent:late-test-agent", "--agent.extra", "3", "data:late-test-logs"])
        assert args.agent == LateConfig(extra=3) and type(args.data) is LateLogs
        compare = parse(
            CompareConfig, ["--agents", "late-test-agent", "--agent-options.late-test-agent.extra", "4"]
        )
        assert compare.agent_config("late-test-agent") == LateConfig(extra=4)
        with pytest.raises(ChoiceError, match="already"):
            register_agent(dataclasses.make_dataclass("Other", [], bases=(LateConfig,), frozen=True))
    finally:
        AGENTS.unregister("late-test-agent")
        SOURCES.unregister("late-test-logs")
