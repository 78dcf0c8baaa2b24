"""Typed choices on the command line (`agent:sb3-ppo`, `data:movielens`, `user-model.model:sasrec`,
`dynamics:hand-set`): a config holds only the alternative chosen, `--help` shows only what applies, and
the flags of earlier versions still give the same config, with a note naming the new spelling."""

from __future__ import annotations

import contextlib
import io

import pytest

from recgym.agents.comparison import CompareConfig
from recgym.agents.sb3_agents import PPOConfig
from recgym.agents.sim_to_real import SimToRealConfig
from recgym.agents.slateq import SlateQConfig
from recgym.agents.training_run import RunConfig
from recgym.config_record import config_record
from recgym.data.sources import MovieLensLogs, SyntheticLogs, TableLogs
from recgym.experiments.common import parse
from recgym.experiments.legacy_flags import modernise
from recgym.experiments.tradeoff import Args as TradeoffArgs
from recgym.models.fitted import UserModelConfig
from recgym.models.sasrec import SASRecConfig
from recgym.simulators.plugin import PluginSimulator
from recgym.world import HandSetDynamics


def test_typed_choices_and_options_come_in_any_order() -> None:
    new = "agent:sb3-ppo --agent.n-steps 64 data:movielens --data.path ml --data.likes --seed 3"
    args = parse(RunConfig, new.split())
    assert args.agent == PPOConfig(n_steps=64) and args.data == MovieLensLogs("ml", likes=True)
    assert args.seed == 3 and isinstance(args.user_model.architecture, type(UserModelConfig().architecture))
    reordered = "--seed 3 data:movielens --data.likes --data.path ml agent:sb3-ppo --agent.n-steps 64"
    assert parse(RunConfig, reordered.split()) == args


def test_old_flags_give_the_same_config_as_the_new_spelling(capsys) -> None:
    old = (
        "--agent sb3-ppo --ppo.n-steps 64 --data movielens --path ml --likes --no-learn-dynamics "
        "--user-model.model sasrec --user-model.sasrec.dim 32"
    )
    new = (
        "agent:sb3-ppo --agent.n-steps 64 data:movielens --data.path ml --data.likes dynamics:hand-set "
        "user-model.model:sasrec --user-model.model.dim 32"
    )
    assert parse(RunConfig, old.split()) == parse(RunConfig, new.split())
    notes = capsys.readouterr().err
    assert "`--agent sb3-ppo` is now spelled `agent:sb3-ppo`" in notes
    assert "`--no-learn-dynamics` is now spelled `dynamics:hand-set`" in notes
    args = parse(RunConfig, old.split())
    assert args.user_model == UserModelConfig(SASRecConfig(dim=32)) and args.dynamics == HandSetDynamics()


def test_old_table_synthetic_and_plugin_flags_land_in_their_data_source() -> None:
    table = parse(
        RunConfig, ["--data", "table", "--path", "log.csv", "--table.user", "uid", "--table.time", "ts"]
    )
    assert table.data == TableLogs("log.csv", user="uid", time="ts")
    synthetic = parse(RunConfig, ["--synthetic.horizon=7", "--synthetic.world.n-items", "40"])
    assert synthetic.data.logging.horizon == 7 and synthetic.data.logging.world.n_items == 40
    plugin = parse(
        RunConfig, ["--simulator", "world", "--simulator-kwargs", "{}", "--synthetic.horizon", "9"]
    )
    assert plugin.data == PluginSimulator("world", "{}", horizon=9)


def test_the_studies_take_the_old_flat_flags_under_run() -> None:
    args = parse(
        TradeoffArgs,
        ["--seeds", "0", "1", "--agent", "slateq", "--total-timesteps", "100"],
        prefix="run.",
        own=("seeds", "workers"),
    )
    assert args.seeds == (0, 1) and args.run.agent == SlateQConfig() and args.run.total_timesteps == 100
    compare = parse(
        CompareConfig,
        ["--run.slateq.gradient-steps", "3", "--agents", "slateq"],
        prefix="run.",
        per_agent="agent-options.",
    )
    assert compare.agent_options.slateq.gradient_steps == 3 and compare.agents == ("slateq",)
    study = parse(
        SimToRealConfig,
        ["--no-train-in-truth", "--horizon", "5"],
        prefix="run.",
        own=("seeds", "train-in-truth"),
    )
    assert not study.train_in_truth and study.run.horizon == 5


def test_new_flags_pass_unchanged() -> None:
    argv = [
        "agent:slateq",
        "--agent.gradient-steps",
        "2",
        "--user-model.model.dim",
        "8",
        "--dynamics.fatigue-decay",
        "0.5",
    ]
    assert modernise(argv) == argv


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


def test_every_place_that_names_agents_follows_the_zoo() -> None:
    """Adding an agent is its file and one zoo entry: the command line's choice, the comparison's
    names and options, and the checkpoint loader are all made from `AGENTS`."""
    import typing

    from recgym.agents.comparison import AgentOptions
    from recgym.agents.zoo import AGENT_CONFIGS, AGENTS, AgentChoice, AgentName

    assert set(typing.get_args(AgentName)) == set(AGENTS)
    assert [typing.get_args(choice)[0] for choice in typing.get_args(AgentChoice)] == list(AGENT_CONFIGS)
    options = AgentOptions()
    assert [type(getattr(options, name.replace("-", "_"))) for name in AGENTS] == list(AGENT_CONFIGS)
