"""Interaction logs: loading, validation, sessions, splits and negative sampling."""

from recgym.data.coat import CoatData, load_coat
from recgym.data.interactions import CleaningReport, InteractionLog, LogError
from recgym.data.item_genres import ItemGenres, load_movielens_genres
from recgym.data.loaders import (
    load_ml1m_ratings,
    load_ml100k_udata,
    load_movielens,
    load_ratings_csv,
    load_recbole_inter,
    load_table,
)
from recgym.data.log_sessions import LogSessions, otsu_gap, split_sessions
from recgym.data.sampling import UserItemSets, sample_negatives, user_item_sets
from recgym.data.splits import Split, leave_last_out, temporal_split

__all__ = [
    "CleaningReport",
    "CoatData",
    "LogSessions",
    "InteractionLog",
    "ItemGenres",
    "LogError",
    "Split",
    "UserItemSets",
    "leave_last_out",
    "load_coat",
    "load_ml1m_ratings",
    "load_ml100k_udata",
    "load_movielens",
    "load_movielens_genres",
    "load_ratings_csv",
    "load_recbole_inter",
    "load_table",
    "otsu_gap",
    "sample_negatives",
    "split_sessions",
    "temporal_split",
    "user_item_sets",
]
