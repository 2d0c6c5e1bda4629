"""``label --simulate``: the labelling loop with the pool's own labels as the answers.

The same choices (``choose.py``) and retrains (``retrain.py``) as the page, run here
one after the other, so that the loop's choice of tweets can be measured against
random ones (``bench/labelling.py``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from sentiment_cli.errors import SentimentError
from sentiment_cli.labelling.choose import BATCH, Chooser
from sentiment_cli.labelling.pool import Pool, first_model, write_rows
from sentiment_cli.labelling.retrain import retrain

Log = Callable[[str], None]
RETRAIN_EVERY = 25  # answers between two retrains


def simulate(
    pool: Pool,
    budget: int,
    seed: int,
    every: int,
    work: Path,
    log: Log,
    labels: list[str] | None = None,
    at_random: bool = False,
) -> list[int]:
    """The ``budget`` pool rows the loop chooses, in the order it asks for them, with
    the pool's labels as the answers and a retrain after every ``every``; ``at_random``
    (``--choose random``): drawn at random, near-duplicates once, and no model needed."""
    if pool.labels is None:
        raise SentimentError("--simulate needs the pool's label column (--label-column)")
    labels = labels or sorted(set(pool.labels))
    chooser = Chooser(pool.signatures(), seed, at_random)
    model = None if at_random else first_model(labels, log)
    probs, features = (None, None) if model is None else pool.scored(model)
    chosen: list[int] = []
    try:
        while len(chosen) < budget:
            goal = min(len(chosen) + every, budget)  # the next retrain's answers
            while len(chosen) < goal:  # batches of BATCH, as the page asks for them
                batch = chooser.batch(min(BATCH, goal - len(chosen)), probs, features)
                if not batch:
                    break
                chosen += batch
            if len(chosen) < goal:
                log(f"The pool ran out after {len(chosen)} tweets")
                break
            if len(chosen) >= budget:
                break
            if at_random:
                continue  # the choice reads no model: nothing to retrain
            answers = [pool.labels[row] for row in chosen]
            data = write_rows(work / f"answers-{len(chosen)}.csv", pool, chosen, answers)
            model = retrain(data, work / f"model-{len(chosen)}", seed, log) or model
            probs, features = (None, None) if model is None else pool.scored(model)
            counts = np.unique(answers, return_counts=True)
            log(
                f"{len(chosen)} answered ("
                + ", ".join(f"{c} {n}" for c, n in zip(*counts, strict=True))
                + ")"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return chosen
