"""Interaction logs: loading, validation, splits and negative sampling."""

from recgym.data.interactions import CleaningReport, InteractionLog, LogError
from recgym.data.loaders import (
    load_ml1m_ratings,
    load_ml100k_udata,
    load_movielens,
    load_ratings_csv,
    load_recbole_inter,
    load_table,
)
from recgym.data.sampling import UserItemSets, sample_negatives, user_item_sets
from recgym.data.splits import Split, leave_last_out, temporal_split

__all__ = [
    "CleaningReport",
    "InteractionLog",
    "LogError",
    "Split",
    "UserItemSets",
    "leave_last_out",
    "load_ml1m_ratings",
    "load_ml100k_udata",
    "load_movielens",
    "load_ratings_csv",
    "load_recbole_inter",
    "load_table",
    "sample_negatives",
    "temporal_split",
    "user_item_sets",
]
