"""TensorBoard tags: API that curves, dashboards and comparisons rely on; change them only here."""

EVAL_METRICS = ("return_mean", "session_length", "ctr", "coverage", "diversity", "novelty")
"""Metrics of every evaluated policy, logged as `eval/<metric>` in the policy's own run folder."""


def eval_tag(metric: str) -> str:
    return f"eval/{metric}"


FIT_LOSS = "fit/loss"
FIT_VALID_NDCG = "fit/valid_ndcg@10"
FIT_VALID_HR = "fit/valid_hr@10"
