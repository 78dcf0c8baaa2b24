"""Does a simulated step cost the same however long the session? Wall time per step of every zoo model's
simulator as the consumed history grows, and user-steps per second.

    python bench/sequence_step_cost.py --out bench/results/sequence-step-cost-cpu.json

Each model is fitted for `epochs` epochs on the default synthetic logs (the weights do not change the cost)
and drives its simulator (`fitted_simulator`) for `steps` steps of `batch` users; every user clicks
every item (the worst case: the sequence models advance every row at every step). Rows: {"model",
"batch", "first_ms", "last_ms", "last_over_first", "user_steps_per_s"} with first/last the mean time
of the first and last `window` steps. A flat cost gives last_over_first near 1 even though the last
steps come after more than `max_len` (50) consumed items; re-encoding the history would grow with it.
The SASRec row also says how far its sliding key/value cache is from re-encoding the last `max_len`
items from scratch (`sliding_window_agreement`: top-10 overlap and logit correlation per user).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch
import tyro

from recgym.data.synthetic import generate_logs
from recgym.models.fitted import UserModelConfig, train_user_model
from recgym.models.training import TrainConfig
from recgym.models.zoo import MODEL_NAMES, default_architecture
from recgym.random import RowStreams
from recgym.runs.checkpoint import atomic_write_json
from recgym.simulators.protocol import Response
from recgym.simulators.registry import fitted_simulator


@dataclass
class Args:
    """Step-cost benchmark settings."""

    models: tuple[str, ...] = MODEL_NAMES
    batch: int = 1024
    """Simulated users stepped at once."""
    steps: int = 120
    """Consumed items per user (more than two SASRec windows)."""
    window: int = 10
    """Steps averaged at the start and at the end."""
    epochs: int = 1
    """Training epochs of each model (the cost does not depend on them; SASRec's cache agreement may)."""
    device: str = "cpu"
    out: str = "bench/results/sequence-step-cost-cpu.json"


def window_agreement(simulator, state, users: torch.Tensor, consumed: list[torch.Tensor]) -> dict[str, float]:
    """How close SASRec's sliding cache is to re-encoding the last `max_len` consumed items from scratch:
    mean top-10 overlap and mean per-user correlation of the logits."""
    model = simulator.fitted.model
    size = model.config.max_len
    window = torch.stack(consumed[-size:], dim=1) + 1  # [B, max_len], oldest first, stored as item + 1
    with torch.no_grad():
        cached = model.state_score_all(
            {k[len("model.") :]: v for k, v in state.items() if k.startswith("model.")}
        )
        fresh = model.logits_all(model.last_hidden(window, torch.full_like(users, size), users))
    top_cached, top_fresh = cached.topk(10).indices, fresh.topk(10).indices
    overlap = (top_cached[:, :, None] == top_fresh[:, None, :]).any(-1).float().mean()
    centred = [x - x.mean(1, keepdim=True) for x in (cached, fresh)]
    correlation = (centred[0] * centred[1]).sum(1) / (centred[0].norm(dim=1) * centred[1].norm(dim=1))
    return {"top10_overlap": float(overlap), "logit_correlation": float(correlation.mean())}


def step_times(model: str, args: Args) -> tuple[list[float], dict[str, float] | None]:
    log, _ = generate_logs()
    fitted = train_user_model(
        log,
        UserModelConfig(default_architecture(model), train=TrainConfig(epochs=args.epochs)),
        progress=False,
    )
    simulator = fitted_simulator(fitted, device=args.device)
    rng = RowStreams.from_seed(0, args.batch, device=args.device)
    users = torch.arange(args.batch, device=args.device) % simulator.n_users
    state = simulator.initial_state(users, rng)
    times, consumed = [], []
    for step in range(args.steps):
        items = (users * 7 + step) % simulator.n_items
        consumed.append(items)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        response = simulator.respond(state, items, rng)
        clicked = Response(click=torch.ones_like(response.click), reward=response.reward)
        state = simulator.transition(state, items, clicked, rng)
        simulator.leaves(state, rng)
        if args.device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    agreement = window_agreement(simulator, state, users, consumed) if model == "sasrec" else None
    return times, agreement


def main(args: Args) -> list[dict]:
    rows = []
    for model in args.models:
        times, agreement = step_times(model, args)
        first = sum(times[1 : args.window + 1]) / args.window  # step 0 warms up
        last = sum(times[-args.window :]) / args.window
        rows.append(
            {
                "model": model,
                "batch": args.batch,
                "first_ms": 1e3 * first,
                "last_ms": 1e3 * last,
                "last_over_first": last / first,
                "user_steps_per_s": args.batch * (len(times) - 1) / sum(times[1:]),
            }
            | ({"sliding_window_agreement": agreement} if agreement else {})
        )
        print(
            f"{model:8s} first {1e3 * first:7.2f} ms  last {1e3 * last:7.2f} ms  "
            f"ratio {last / first:5.2f}  {rows[-1]['user_steps_per_s']:,.0f} user-steps/s"
        )
    atomic_write_json(
        Path(args.out),
        {"rows": rows, "device": args.device, "threads": torch.get_num_threads(), "steps": args.steps},
    )
    return rows


if __name__ == "__main__":
    main(tyro.cli(Args))
