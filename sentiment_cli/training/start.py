"""Where a new model starts: its layers, pretrained vectors and encoder, and the
optional pretraining on distantly labelled tweets."""

from __future__ import annotations

import time
from collections.abc import Callable

from sentiment_cli.config import Config
from sentiment_cli.models.baseline import class_weights
from sentiment_cli.text.vocabulary import Vocabulary
from sentiment_cli.training.batches import by_length, fit_arguments
from sentiment_cli.training.prepare import Prepared

Log = Callable[[str], None]


def new_model(config: Config, prepared: Prepared, log: Log):
    """Build (``start_model``) and compile the model."""
    from sentiment_cli.models.build import compile_model

    model, found = start_model(config, prepared.vocab, prepared.splits.classes, log)
    compile_model(model, config.train)
    return model, found


def start_model(config: Config, vocab: Vocabulary, classes: list[str], log: Log):
    """(the model before training, pretrained-vector coverage): built, started from the
    pretrained vectors or encoder where configured, with lexicon coverage reported."""
    from sentiment_cli.models.build import build_model, rnn_layer_names

    lexicon = None
    if config.model.lexicon == "vader":
        from sentiment_cli.text.lexicon import lexicon_matrix

        lexicon, rated = lexicon_matrix(vocab)
        log(
            f"Lexicon: {rated} of {len(vocab) - 2} vocabulary tokens rated by VADER "
            f"(its entries are in the vocabulary even when training never saw them)"
        )
    embedding_matrix, found, recurrent, encoder = pretrained_start(config, vocab, lexicon, log)
    subwords = None
    if config.model.subwords:
        from sentiment_cli.text.vocabulary import subword_table

        subwords = subword_table(vocab.tokens, config.model.subwords)
    model = build_model(
        config, len(vocab), len(classes), embedding_matrix, lexicon, subwords, by_length(config)
    )
    if recurrent is not None:
        layer = model.get_layer(rnn_layer_names(config)[0])
        (layer.forward_layer if config.model.bidirectional else layer).set_weights(recurrent)
        found["classifier"] = start_classifier(model, encoder, config, classes, log)
    return model, found


def start_classifier(model, encoder, config: Config, classes: list[str], log: Log) -> bool:
    """The whole network transferred: the classifier starts from the encoder's where it
    fits (``model.encoder_classifier``); whether it did."""
    from sentiment_cli.models.encoder import classifier_start

    head, why_not = classifier_start(encoder, config, classes)
    if head is None:
        if config.model.encoder_classifier:
            log(f"The classifier starts fresh: {why_not}")
        return False
    model.get_layer("classifier").set_weights(head)
    log(f"The classifier starts from the encoder's too ({', '.join(classes)})")
    return True


def pretrained_start(config: Config, vocab: Vocabulary, lexicon, log: Log):
    """(embedding matrix, coverage, first recurrent layer's weights) to start from:
    ``model.embeddings_file``'s vectors, or the pretrained encoder's vectors and
    recurrent layer (``model.encoder``), or nothing (random)."""
    m = config.model
    if m.embeddings_file:
        from sentiment_cli.models.embeddings import load_embeddings

        pretrained = load_embeddings(m.embeddings_file, vocab, m.embedding_dim, config.train.seed)
        log(
            f"Pretrained vectors: {pretrained.found} of {pretrained.total} vocabulary words "
            f"found in {m.embeddings_file}"
            + (f" (model.encoder {m.encoder!r} not used)" if m.encoder else "")
        )
        found = {"source": m.embeddings_file, "found": pretrained.found}
        return pretrained.matrix, {**found, "vocabulary": pretrained.total}, None, None
    from sentiment_cli.models.encoder import embedding_matrix, recurrent_start, usable

    encoder = usable(m, log)
    if encoder is None:
        return None, None, None, None
    matrix, known = embedding_matrix(encoder, vocab, config.train.seed)
    input_dim = m.embedding_dim + (lexicon.shape[1] if lexicon is not None else 0)
    recurrent = recurrent_start(encoder, m.cell, m.units, input_dim)
    log(
        f"Encoder {m.encoder!r}: {known} of {len(vocab) - 2} vocabulary words start from its "
        f"vectors; the first recurrent layer starts "
        + ("from it" if recurrent is not None else "fresh (its cell, width or input differ)")
    )
    found = {"source": f"encoder {m.encoder}", "found": known, "vocabulary": len(vocab) - 2}
    return matrix, {**found, "recurrent_layer": recurrent is not None}, recurrent, encoder


def pretrain_model(model, config: Config, prepared: Prepared, verbose: int, log: Log) -> None:
    """Distant supervision: fit the shared embedding and recurrent layers on the
    pretraining tweets through a classifier of their own, which is then dropped."""
    from sentiment_cli.models import backend

    keras = backend.keras()

    from sentiment_cli.models.build import compile_model
    from sentiment_cli.training.callbacks import GracefulInterrupt

    ids, labels, names = prepared.pretrain
    features = model.get_layer("classifier").input
    head = keras.layers.Dense(len(names), activation="softmax", name="pretrain_classifier")
    pre = keras.Model(model.inputs, head(features), name="pretraining")
    compile_model(pre, config.train)
    weights = class_weights([names[i] for i in labels], names, config.train.class_weight)
    started = time.perf_counter()
    with GracefulInterrupt() as interrupt:
        pre.fit(
            **fit_arguments(config, (ids, labels), None, weights, None, config.train.seed),
            epochs=config.train.pretrain_epochs,
            callbacks=[interrupt],
            verbose=verbose,
        )
    log(
        f"Pretrained on {len(ids)} tweets for {config.train.pretrain_epochs} epoch(s) in "
        f"{time.perf_counter() - started:.0f}s"
    )


def log_parameters(model, log: Log) -> list[tuple[str, str, int]]:
    from sentiment_cli.models.build import parameter_table

    params = parameter_table(model)
    log("Parameters per layer:")
    for name, kind, count in params:
        log(f"  {name:<20} {kind:<22} {count:>10,}")
    log(f"  {'total':<20} {'':<22} {int(model.count_params()):>10,}")
    return params
