"""Data-parallel training across processes with ``tf.distribute.MultiWorkerMirroredStrategy``.

Keras 3's ``model.fit`` fails under this strategy ("Attempt to convert a value
(PerReplica...)", keras-team/keras#20585), so this is a custom training loop: each
worker computes the loss on its shard of every global batch, ``strategy.run`` takes
one step on every replica, gradients are all-reduced, and Adam (with the configured
clipnorm) applies the same update everywhere, so the weights stay identical.

Run one process per worker with ``TF_CONFIG`` set, e.g. two on this machine::

    TF_CONFIG='{"cluster": {"worker": ["127.0.0.1:12345", "127.0.0.1:12346"]},
                "task": {"type": "worker", "index": 0}}' \\
        python bench/distributed.py DATA.csv --steps 20 --out worker0.npz

See docs/scaling.md for what this is and is not.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np


def train_steps(data_path: str, steps: int, global_batch: int, seed: int) -> list[np.ndarray]:
    """``steps`` synchronous steps of the default model; returns the final weights."""
    import tensorflow as tf

    from sentiment_cli.config import load_config
    from sentiment_cli.io.readers import read_labelled
    from sentiment_cli.models import backend
    from sentiment_cli.text.tokenizer import tokenize_all
    from sentiment_cli.training.prepare import build_vocabulary, label_ids
    from sentiment_cli.training.start import start_model

    # The strategy configures collective ops: before any other TensorFlow op runs.
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    keras = backend.keras()
    config = load_config(None)
    data = read_labelled(data_path)
    classes = sorted(set(data.labels))
    tokens = tokenize_all(data.texts, config.text)
    vocab = build_vocabulary(config, tokens)
    ids = vocab.encode_tokens(tokens, config.text).ids
    labels = label_ids(data.labels, classes)
    keras.utils.set_random_seed(seed)  # every worker starts from the same weights
    with strategy.scope():
        model, _ = start_model(config, vocab, list(classes), lambda message: None)
        optimizer = keras.optimizers.Adam(
            learning_rate=config.train.learning_rate, clipnorm=config.train.clipnorm
        )
        loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction="none")
    dataset = (
        tf.data.Dataset.from_tensor_slices((ids, labels))
        .shuffle(len(ids), seed=seed)
        .repeat()
        .batch(global_batch)
    )
    batches = iter(strategy.experimental_distribute_dataset(dataset))

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            per_example = loss_fn(y, model(x, training=True))
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    for _ in range(steps):
        x, y = next(batches)
        strategy.run(step, args=(x, y))
    return [np.asarray(w) for w in model.get_weights()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--global-batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    if "TF_CONFIG" not in os.environ:
        raise SystemExit("set TF_CONFIG to the cluster and this worker's index")
    weights = train_steps(args.data, args.steps, args.global_batch, args.seed)
    np.savez(args.out, *weights)
    task = json.loads(os.environ["TF_CONFIG"])["task"]
    print(f"worker {task['index']}: {args.steps} steps, {len(weights)} weight arrays")


if __name__ == "__main__":
    main()
