"""The one default shape of a session, apart from the session step itself, so that agents and configs
can name it without reaching into the envs' machinery."""

HORIZON = 50
"""Longest session, in recommendations, wherever none is given (envs, evaluation, runs, agents)."""
HISTORY_LEN = 20
"""Recent recommendations and responses in the observation wherever none is given: one default, so an
agent trained with the defaults is evaluated and served with the history it learned from."""
