"""Read, split, tokenize and encode the data a model trains on."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_cli.config import Config
from sentiment_cli.errors import SentimentError
from sentiment_cli.io.readers import LabelledData, check_training_labels, read_labelled
from sentiment_cli.io.splits import split_indices
from sentiment_cli.runtime import seen
from sentiment_cli.text.vocabulary import Encoded, Vocabulary
from sentiment_cli.training.calibrate import MIN_VALIDATION

Log = Callable[[str], None]


# Share of a file's rows the start read from which validation avoids them. Below it the
# rows it shares are chance: short, common texts ("good morning", "thank you"), 0.2-0.9%
# of the own-domain sets' files, which a small sample can hold a few of.
READ_SHARE = 0.05


def split_train_val(
    data: LabelledData, fraction: float, seed: int, log: Log, start: tuple | None = None
):
    """Hold out a stratified validation part, near-copies of a tweet on one side
    (``io.splits.split_indices``), drawn from the rows the run's ``start`` (``read_by_start``:
    its fingerprints and name) was not trained on where it was trained on some."""
    train_idx, val_idx, _ = held_out(data, fraction, seed, log, start)
    return pick(data, train_idx), pick(data, val_idx)


def held_out(data: LabelledData, fraction: float, seed: int, log: Log, start):
    """(training rows, validation rows, the rows ``start`` read) of ``split_train_val``."""
    read = seen.member(data.texts, start[0]) if start else np.zeros(len(data), dtype=bool)
    apart = None  # the split that keeps validation apart from what the start read
    if read.sum() >= READ_SHARE * len(data):
        apart = split_unread(data, read, fraction, seed, log, start[1])
    train_idx, val_idx = apart or split_indices(
        data.labels, fraction, seed, data.path, log, "validation", texts=data.texts
    )
    return train_idx, val_idx, read


def pick(data: LabelledData, idx) -> LabelledData:
    return LabelledData(
        texts=[data.texts[i] for i in idx],
        labels=[data.labels[i] for i in idx],
        dropped=0,
        path=data.path,
    )


def split_unread(data: LabelledData, read: np.ndarray, fraction: float, seed: int, log, start):
    """(train, validation) row indices where ``start`` was trained on the ``read`` rows (or
    their copies): validation is drawn from the others, for a model scores tweets it has
    learnt better than new ones, and what is chosen on validation (the epoch, the blend's
    weight, the temperature) would be chosen for tweets no user brings. It takes the
    usual share of the file, but never more than half of the others: the rows the start
    never read are the ones it has most to learn from. Where that is fewer than
    ``MIN_VALIDATION`` (or some label has none), None with a warning: the usual split."""
    n = len(data)
    unread = np.flatnonzero(~read)
    wanted = min(int(np.ceil(n * fraction)), len(unread) // 2)
    labels = [data.labels[i] for i in unread]
    what = (
        f"{int(read.sum()):,} of the {n:,} rows of {data.path} are tweets {start} was "
        f"trained on, or copies of them"
    )
    if wanted < MIN_VALIDATION or set(labels) != set(data.labels):
        log(
            f"Warning: {what}, and too few others are left to validate on: validation "
            f"figures are optimistic (--val-data: tweets it never read)"
        )
        return None
    texts = [data.texts[i] for i in unread]
    kept, out = split_indices(
        labels, wanted / len(unread), seed, data.path, log, "validation", texts=texts
    )
    log(f"Validation split: {len(out):,} of the {len(unread):,} others, the rest trained on; "
        f"{what}")  # fmt: skip
    return (np.sort(np.concatenate([np.flatnonzero(read), unread[kept]])), unread[out])


def read_by_start(config: Config, origin_seen=None, origin_path=None) -> tuple | None:
    """(fingerprints, name) of the tweets the run's start was trained on: the encoder's
    (``model.encoder``, where its folder keeps them) and, with ``train --from``, the
    continued model's (``origin_seen``); None where there are none."""
    from sentiment_cli.models.encoder import fingerprints

    parts, names = [], []
    if config.model.encoder and not config.model.embeddings_file:
        prints = fingerprints(config.model.encoder)
        if prints is not None:
            parts.append(prints)
            names.append(f"the encoder {config.model.encoder!r}")
    if origin_seen is not None:
        parts.append(origin_seen)
        names.append(f"the model of --from {origin_path}")
    return (np.unique(np.concatenate(parts)), " and ".join(names)) if parts else None


@dataclass
class Splits:
    """The labelled data of one run, split into training and validation parts."""

    data: LabelledData  # the training CSV as read
    train: LabelledData  # the part the model is fit on (augmented copies included)
    val: LabelledData
    classes: list[str]
    start_read: dict | None = None  # rows of each part the run's start was trained on


@dataclass
class Prepared:
    """The splits of one run, tokenized and encoded with the run's vocabulary."""

    splits: Splits
    vocab: Vocabulary
    train_tokens: list[list[str]]
    val_tokens: list[list[str]]
    x_train: Encoded
    x_val: Encoded
    y_train: np.ndarray
    y_val: np.ndarray
    pretrain: tuple[np.ndarray, np.ndarray, list[str]] | None = None  # ids, labels, names
    real_train: tuple[LabelledData, list[list[str]]] | None = None  # before augmentation
    unlabelled: np.ndarray | None = None  # ids of train --unlabelled's tweets
    pseudo: int = 0  # pseudo-labelled rows at the end of x_train (self-training's student)


def load_splits(
    data_path, val_path, config: Config, text_column: str, label_column: str, log: Log,
    origin=None,
) -> Splits:  # fmt: skip
    """Read and check the CSVs and split them (``origin``: the model ``train --from``
    continues); no TensorFlow needed, so bad input is refused at once."""
    if text_column == label_column:
        raise SentimentError(
            f"--text-column and --label-column are both {text_column!r}; the model would "
            f"read its own labels. Name two different columns"
        )
    data = read_labelled(data_path, text_column, label_column)
    classes = check_training_labels(data, label_column)
    start = read_by_start(config, *((origin.seen, origin.path) if origin else ()))
    if data.dropped:
        log(f"Dropped {data.dropped} row(s) of {data_path} with an empty text or label")
    if val_path is not None:
        val = read_labelled(val_path, text_column, label_column)
        unknown = sorted(set(val.labels) - set(classes))
        if unknown:
            raise SentimentError(
                f"{val_path}: label(s) {', '.join(map(repr, unknown))} do not occur in "
                f"{data_path} (labels there: {', '.join(map(repr, classes))})"
            )
        if val.dropped:
            log(f"Dropped {val.dropped} row(s) of {val_path} with an empty text or label")
        shared = seen.count(val.texts, seen.fingerprints(data.texts))
        if shared:
            log(
                f"Warning: {shared} of the {len(val)} rows of {val_path} have a copy in "
                f"{data_path} (the same text without links, mentions, RT, punctuation or "
                f"emoji): the model has read them, so validation figures are optimistic"
            )
        read = seen.count(val.texts, start[0]) if start else 0
        if read >= READ_SHARE * len(val):
            log(
                f"Warning: {read} of the {len(val)} rows of {val_path} are tweets {start[1]} "
                f"was trained on, or copies of them: validation figures are optimistic"
            )
        train_part, counts = data, start and (seen.count(data.texts, start[0]), read)
    else:
        train_idx, val_idx, read = held_out(
            data, config.train.validation_split, config.train.seed, log, start
        )
        train_part, val = pick(data, train_idx), pick(data, val_idx)
        counts = start and (int(read[train_idx].sum()), int(read[val_idx].sum()))
    start_read = counts and {"by": start[1], "training": counts[0], "validation": counts[1]}
    return Splits(data, train_part, val, classes, start_read)


def described(splits: Splits) -> str:
    counts = Counter(splits.train.labels)
    return (
        f"Data: {len(splits.train)} training / {len(splits.val)} validation tweets; labels: "
        + ", ".join(f"{c}={counts.get(c, 0)}" for c in splits.classes)
    )


def prepare(
    splits: Splits,
    config: Config,
    text_column: str,
    label_column: str,
    log: Log,
    vocab=None,
    cache: Path | None = None,
    unlabelled: list[str] | None = None,
    extend: Vocabulary | None = None,
) -> Prepared:
    """Tokenize, build (or reuse) the vocabulary, augment the training part and encode
    both parts (and the ``unlabelled`` tweets, whose words join the vocabulary).
    ``extend``: the vocabulary of the model ``train --from`` continues (``run_vocabulary``)."""
    from sentiment_cli.training.token_cache import tokenize_cached

    log(described(splits))
    text = config.text
    train_tokens, cached = tokenize_cached(splits.train.texts, text, cache)
    val_tokens, _ = tokenize_cached(splits.val.texts, text, cache)
    if cached:
        log(f"Tokens read from the cache in {cache}")
    pretrain = pretrain_tokens = None
    if config.train.pretrain_data and vocab is None and extend is None:
        pretrain = read_labelled(config.train.pretrain_data, text_column, label_column)
        check_training_labels(pretrain, label_column)
        pretrain_tokens, _ = tokenize_cached(pretrain.texts, text, cache)
    unlabelled_tokens = tokenize_cached(unlabelled, text, cache)[0] if unlabelled else []
    corpus = train_tokens + (pretrain_tokens or []) + unlabelled_tokens
    vocab = run_vocabulary(config, vocab, extend, corpus, log)
    real_part, real_tokens = splits.train, train_tokens
    splits = dataclasses.replace(splits)
    splits.train, train_tokens = augmented(splits.train, train_tokens, config, log)
    from sentiment_cli.models.size import check_fits

    rows = len(train_tokens) + len(val_tokens)
    check_fits(config, len(vocab), len(splits.classes), rows)  # before any big allocation
    x_train = vocab.encode_tokens(train_tokens, text)
    x_val = vocab.encode_tokens(val_tokens, text)
    log(
        f"Vocabulary: {len(vocab)} ids (incl. padding and OOV); max_length {text.max_length}: "
        f"truncated {truncated(x_train, len(real_part))} training and {x_val.truncated} "
        f"validation tweets (longest: {int(x_train.lengths[: len(real_part)].max())} tokens)"
    )
    pretrain_set = None
    if pretrain is not None:
        names = sorted(set(pretrain.labels))
        pretrain_set = (
            vocab.encode_tokens(pretrain_tokens, text).ids,
            label_ids(pretrain.labels, names),
            names,
        )
        log(
            f"Pretraining data: {len(pretrain)} tweets of {config.train.pretrain_data}, "
            f"labels {', '.join(names)}"
        )
    return Prepared(
        splits=splits,
        vocab=vocab,
        train_tokens=train_tokens,
        val_tokens=val_tokens,
        x_train=x_train,
        x_val=x_val,
        y_train=label_ids(splits.train.labels, splits.classes),
        y_val=label_ids(splits.val.labels, splits.classes),
        pretrain=pretrain_set,
        real_train=(real_part, real_tokens),
        unlabelled=vocab.encode_tokens(unlabelled_tokens, text).ids if unlabelled else None,
    )


def run_vocabulary(config: Config, vocab, extend, corpus, log: Log) -> Vocabulary:
    """A resumed run's ``vocab`` as it is (it is past pretraining, and a continued run's
    is extended already); the vocabulary of the model ``train --from`` continues,
    extended by the words of ``corpus`` (no pretraining: that was the first run's); or
    a new one of ``corpus``."""
    if vocab is not None:
        return vocab
    if extend is not None:
        vocab = extend.extended(corpus, config.text)
        log(f"Vocabulary of the model continued: {len(extend)} ids, {len(vocab) - len(extend)} new")
        return vocab
    return build_vocabulary(config, corpus)


def truncated(encoded: Encoded, n_real: int) -> int:
    """Tweets of the training split (its augmented copies left out) cut at max_length."""
    return int((encoded.lengths[:n_real] > encoded.ids.shape[1]).sum())


def label_ids(labels: list[str], classes: list[str]) -> np.ndarray:
    index = {label: i for i, label in enumerate(classes)}
    return np.array([index[label] for label in labels], dtype="int32")


def build_vocabulary(config: Config, corpus: list[list[str]]) -> Vocabulary:
    """The training tokens (pretraining tweets are training data too), plus the
    lexicon's entries, which carry a prior even when training never saw them."""
    extra: list[str] = []
    if config.model.lexicon == "vader":
        from sentiment_cli.text.lexicon import vader_valences

        extra = list(vader_valences())
        if config.text.mark_negation:  # a negated word's prior is the opposite one
            extra += [f"{word}_NEG" for word in extra]
    from sentiment_cli.models.encoder import usable

    encoder = usable(config.model, lambda message: None)
    if encoder is not None:
        extra += encoder.tokens  # its words start from its vectors, even unseen in training
    return Vocabulary.build(corpus, config.text, extra)


def augmented(
    train_part: LabelledData, train_tokens: list[list[str]], config: Config, log: Log
) -> tuple[LabelledData, list[list[str]]]:
    """The training split plus its negated copies and contrast pairs (config.train)."""
    from sentiment_cli.training.augment import augment

    t = config.train
    tokens, labels = augment(
        train_tokens,
        train_part.labels,
        negation=t.augment_negation,
        negated_negatives=t.augment_negated_negatives,
        contrast=t.augment_contrast,
        seed=t.seed,
        mark_negation=config.text.mark_negation,
        scope_rule=config.text.negation_scope,
    )
    if not tokens:
        return train_part, train_tokens
    log(f"Augmented the training split with {len(tokens)} edited tweets (negation, contrast)")
    part = LabelledData(
        texts=train_part.texts + [" ".join(words) for words in tokens],
        labels=train_part.labels + labels,
        dropped=train_part.dropped,
        path=train_part.path,
    )
    return part, train_tokens + tokens
