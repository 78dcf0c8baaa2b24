"""Command lines written before the typed choices still run: each old flag is rewritten to its new
spelling, with a note on stderr naming it. `--agent sb3-ppo --ppo.n-steps 64` becomes
`agent:sb3-ppo --agent.n-steps 64`; `--data movielens --path ml --likes` becomes
`data:movielens --data.path ml --data.likes`; `--table.*` and `--synthetic.*` move under `--data.`;
`--simulator NAME --simulator-kwargs JSON` becomes `data:plugin --data.name NAME --data.kwargs JSON`;
`--user-model.model sasrec` (fit_user_model's `--model sasrec`) becomes `user-model.model:sasrec`
and `--user-model.sasrec.*` `--user-model.model.*`; `--no-learn-dynamics` becomes `dynamics:hand-set`.
The studies that took experiments.dqn's options flat (tradeoff, sim_to_real) hold them under `--run.`.
"""

from __future__ import annotations

import sys

from recgym.agents.zoo import AGENTS
from recgym.models.zoo import MODEL_NAMES

AGENT_GROUPS = {name.removeprefix("sb3-") for name in AGENTS} | set(AGENTS)
"""Old per-agent option groups: --dqn.*, --ppo.*, --gpu-dqn.*, --slateq.*, ..."""
PLUGIN_LOGGING = ("sessions-per-user", "horizon", "seed")
"""--synthetic.* options that set a plug-in simulator's logging."""


def modernise(
    argv: list[str], prefix: str = "", own: tuple[str, ...] = (), per_agent: str | None = None
) -> list[str]:
    """argv with every old flag in its new spelling (a note on stderr for each).

    :param prefix: where the run's options now live ("run." for the studies that hold a RunConfig).
    :param own: the experiment's own options (e.g. "seeds", "workers"), which keep their spelling;
        with a prefix, other flat flags are the run's and get it.
    :param per_agent: where a study of several agents keeps each one's options ("agent-options.");
        None: old per-agent groups (--ppo.*) become the run's one agent's (--agent.*).
    """
    tokens = _split_equals(argv)
    if prefix and own:
        tokens = [_prefixed(token, prefix, own) for token in tokens]
    plugin = f"--{prefix}simulator" in tokens
    new: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        value = tokens[index + 1] if index + 1 < len(tokens) else None
        replacement, used = _rewrite(token, value, prefix, plugin, per_agent)
        if replacement is None or token[2:].removeprefix("no-") in own:
            new.append(token)
            index += 1
            continue
        old = " ".join(tokens[index : index + used])
        print(f"note: `{old}` is now spelled `{' '.join(replacement)}`", file=sys.stderr)
        new += replacement
        index += used
    return new


def _rewrite(
    token: str, value: str | None, p: str, plugin: bool, per_agent: str | None
) -> tuple[list[str] | None, int]:
    """(new tokens, old tokens used) for an old flag; (None, 1) for any other token."""
    choices = {f"--{p}agent": "agent", f"--{p}data": "data", f"--{p}user-model.model": "user-model.model"}
    if token in choices and value is not None:
        return [f"{p}{choices[token]}:{value}"], 2
    if token == "--model" and value is not None:
        return [f"user-model.model:{value}"], 2
    if token == f"--{p}simulator" and value is not None:
        return [f"{p}data:plugin", f"--{p}data.name", value], 2
    renamed = {
        f"--{p}path": f"--{p}data.path",
        f"--{p}likes": f"--{p}data.likes",
        f"--{p}no-likes": f"--{p}data.no-likes",
        f"--{p}simulator-kwargs": f"--{p}data.kwargs",
    }
    if token in renamed:
        return [renamed[token]], 1
    if token == f"--{p}no-learn-dynamics":
        return [f"{p}dynamics:hand-set"], 1
    if token == f"--{p}learn-dynamics":
        return [f"{p}dynamics:learn"], 1
    if not token.startswith(f"--{p}"):
        return None, 1
    group, _, rest = token.removeprefix(f"--{p}").partition(".")
    if not rest:
        return None, 1
    if group in AGENT_GROUPS:
        if per_agent is None:
            return [f"--{p}agent.{rest}"], 1
        name = group if group in AGENTS else f"sb3-{group}"
        return [f"--{per_agent}{name}.{rest}"], 1
    if group == "table":
        return [f"--{p}data.{rest}"], 1
    if group == "synthetic":
        logging = rest if plugin and rest in PLUGIN_LOGGING else f"logging.{rest}"
        return [f"--{p}data.{logging}"], 1
    if group == "user-model":
        model, _, option = rest.partition(".")
        if model in MODEL_NAMES and option:
            return [f"--{p}user-model.model.{option}"], 1
    return None, 1


def _split_equals(argv: list[str]) -> list[str]:
    """`--flag=value` as `--flag value`, so both spellings are rewritten alike."""
    tokens: list[str] = []
    for token in argv:
        if token.startswith("--") and "=" in token:
            tokens += token.split("=", 1)
        else:
            tokens.append(token)
    return tokens


def _prefixed(token: str, prefix: str, own: tuple[str, ...]) -> str:
    """A flat flag of the run moved under prefix; the study's own flags and help stay."""
    if not token.startswith("--") or token.startswith(f"--{prefix}") or token == "--help":
        return token
    name = token[2:].removeprefix("no-")
    if name.split(".")[0] in own:
        return token
    print(f"note: `{token}` is now spelled `--{prefix}{token[2:]}`", file=sys.stderr)
    return f"--{prefix}{token[2:]}"
