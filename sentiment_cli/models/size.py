"""Will it fit? The memory a model needs to train, estimated from its config before
anything is allocated, so that a config no machine could hold (``model.units: 1e9``)
gets a message with the estimate and the limit instead of an allocation failure."""

from __future__ import annotations

import os

from sentiment_cli.config import Config, TrainConfig
from sentiment_cli.errors import SentimentError

GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}
FLOAT = 4  # bytes of a float32
COPIES = 4  # weights, gradients and Adam's two moments
SHARE = 0.8  # of the machine's memory a run may plan to use


def parameters(config: Config, vocab_size: int, n_classes: int) -> int:
    """About as many parameters as the Keras model will have."""
    m = config.model
    directions = 2 if m.bidirectional else 1
    width = m.embedding_dim + (2 if m.lexicon == "vader" else 0)
    count = vocab_size * width + m.subwords * m.embedding_dim
    for _ in range(m.layers):
        gates = GATES[m.cell]
        count += directions * gates * m.units * (width + m.units + 2)
        width = directions * m.units
    count += width * width + (width + 1) * n_classes  # attention at most, classifier
    return count * config.train.members


# train.batch_size: auto. On a CPU a training step costs a fixed part (the step's
# dispatch, the recurrent loop's per-step work) plus a part per tweet; small batches pay
# the fixed part often. So auto starts at 64 tweets (what a few hundred labels train on)
# and doubles while an epoch keeps at least AUTO_STEPS steps, up to AUTO_MAX.
AUTO_BATCH, AUTO_MAX, AUTO_STEPS = 64, 256, 150


def batch_size_for(train: TrainConfig, rows: int) -> int:
    """The tweets per training step for ``rows`` training rows (augmented copies
    included): ``train.batch_size``, or what ``auto`` makes of it."""
    if train.batch_size != "auto":
        return train.batch_size
    size = AUTO_BATCH
    while size * 2 <= AUTO_MAX and rows >= size * 2 * AUTO_STEPS:
        size *= 2
    return size


def memory_limit() -> int:
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") * SHARE)
    except (ValueError, OSError, AttributeError):  # not a POSIX system: no check
        return 1 << 62


def check_fits(config: Config, vocab_size: int, n_classes: int, rows: int) -> None:
    """Refuse a run whose weights and token arrays cannot fit in memory."""
    m, t = config.model, config.train
    params = parameters(config, vocab_size, n_classes)
    steps = batch_size_for(t, rows) * config.text.max_length
    activations = steps * m.units * GATES[m.cell] * m.layers * 3
    arrays = rows * config.text.max_length * 8  # ids, and the copies Keras makes
    need = params * FLOAT * COPIES + activations * FLOAT + arrays
    limit = memory_limit()
    if need > limit:
        raise SentimentError(
            f"this config needs about {need / 1e9:,.1f} GB to train ({params:,} parameters "
            f"of a {m.cell} of {m.units} units over {vocab_size:,} words, {rows:,} tweets of "
            f"{config.text.max_length} ids); this machine allows {limit / 1e9:,.1f} GB. "
            f"Lower model.units, model.embedding_dim, text.max_tokens or text.max_length"
        )
