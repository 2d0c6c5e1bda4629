"""Typed, frozen configuration loaded from YAML, with dotted ``--set`` overrides.

A config has three sections, ``text``, ``model`` and ``train``; every key has a default
here, so a YAML file only needs the keys it changes. Unknown keys, wrong types and
out-of-range values are refused with the file, the key and what was expected.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
import reprlib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from sentiment_cli.cells import CELLS
from sentiment_cli.errors import SentimentError
from sentiment_cli.resources import configs_dir

CONFIG_DIR = configs_dir()  # the shipped configs: --config NAME reads NAME.yaml here
DEFAULT_CONFIG_NAME = "lstm.yaml"
Initializer = str | dict
_SCIENTIFIC = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$")


@dataclass(frozen=True)
class TextConfig:
    max_tokens: int = 20000  # vocabulary size, counting padding (id 0) and OOV (id 1)
    min_count: int = 2  # a token seen fewer times in the training split becomes OOV
    max_length: int = 50  # every tweet becomes exactly this many ids
    padding: Literal["pre", "post"] = "post"  # where zeros go when a tweet is shorter
    truncating: Literal["pre", "post"] = "post"  # which end is cut when it is longer
    lowercase: bool = True
    replace_urls: bool = True  # http://... -> <url>
    replace_mentions: bool = True  # @someone -> <user>
    replace_numbers: bool = True  # 42, 3.5 -> <number>
    split_hashtags: bool = True  # #blessed -> <hashtag> blessed
    reduce_elongations: bool = True  # soooooo -> sooo
    mark_negation: bool = True  # not good at all -> not good_NEG at_NEG all_NEG
    # clause: to the clause's end; grammar: also ends at "couldn't be happier"-style
    # degree words and wh-clauses, and "fails to" negates (text/negation.py)
    negation_scope: Literal["clause", "grammar"] = "grammar"
    normalize_emoji: bool = True  # drop skin tones and variation selectors: "👍🏽" -> "👍"


@dataclass(frozen=True)
class ModelConfig:
    cell: Literal[tuple(CELLS)] = "lstm"  # simple_rnn, lstm or gru (cells.CELLS)
    units: int = 64  # width of the recurrent state h_t
    layers: int = 1  # stacked recurrent layers
    bidirectional: bool = False
    embedding_dim: int = 100
    embedding_dropout: float = 0.0  # spatial dropout: drops whole embedding channels
    dropout: float = 0.2  # dropout on the pooled state, before the classifier
    recurrent_dropout: float = 0.0  # dropout on h_{t-1}; >0 rules out the cuDNN kernel
    pooling: Literal["last", "max", "mean", "attention"] = "last"  # how the sequence is read out
    mask_padding: bool = True  # the RNN skips padding steps instead of reading zeros
    kernel_initializer: Initializer = "glorot_uniform"  # W: acts on the input x_t
    recurrent_initializer: Initializer = "orthogonal"  # U: acts on the previous state h_{t-1}
    embeddings_file: str | None = None  # GloVe/word2vec text file: "word v1 v2 ..."
    embeddings_trainable: bool = True  # fine-tune pretrained vectors (or keep them frozen)
    encoder: str | None = "tweets"  # pretrained tweet encoder to start from (null: random)
    encoder_classifier: bool = True  # also start the classifier from the encoder's, if it fits
    lexicon: Literal["none", "vader"] = "vader"  # add each token's VADER valence as a feature
    subwords: int = 0  # >0: hash buckets of character n-grams added to each word's vector


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 10
    # tweets per step; auto: see models/size.py's batch_size_for
    batch_size: int | Literal["auto"] = 64
    length_batches: bool = True  # batch tweets of like length, cut to the longest (masked padding)
    learning_rate: float = 0.001
    weight_decay: float = 0.0  # >0: AdamW, decoupled weight decay of this rate
    clipnorm: float | None = 1.0  # clip the gradient norm: BPTT gradients can explode
    seed: int = 42
    validation_split: float = 0.1  # held out of the training CSV when --val-data is not given
    class_weight: Literal["none", "sqrt", "balanced"] = "sqrt"  # weigh rare classes up
    early_stopping_patience: int = 2  # epochs without improvement of `monitor` before stopping
    reduce_lr_factor: float = 1.0  # <1: multiply the rate by this when `monitor` stops improving
    # what early stopping (and the best epoch) follows
    monitor: Literal["val_loss", "val_macro_recall", "val_macro_f1"] = "val_loss"
    checkpoint: bool = True  # save a resumable checkpoint after every epoch
    baseline: bool = True  # also fit the TF-IDF + logistic regression baseline
    pretrain_data: str | None = None  # CSV of (noisily) labelled tweets to pretrain on first
    pretrain_epochs: int = 1  # epochs on pretrain_data before training on the real labels
    augment_negation: float = 0.1  # add this fraction of negated clauses (label flipped)
    augment_negated_negatives: float = 0.67  # share of those negating a negative ("not bad")
    augment_contrast: float = 0.1  # add this fraction of "A, but B" pairs (label of B)
    augment_weight: float = 0.5  # weight of an augmented tweet in the loss (a real one: 1)
    members: int = 1  # >1: an ensemble of this many models (seeds seed, seed+1, ...), averaged
    tune_biases: bool = False  # shift the classifier's biases to maximize validation macro recall
    calibrate: Literal["none", "temperature"] = "temperature"  # logits / T fitted on validation
    blend: Literal["none", "auto"] = "auto"  # mix a bag of words in, weight by validation
    blend_features: Literal["words", "words+chars"] = "words+chars"  # +each word's 2-5 chars
    pseudo_labels: float = 2.0  # train --unlabelled: pseudo-labelled tweets per labelled one
    pseudo_weight: float = 0.5  # weight of a pseudo-labelled tweet in the loss (a real one: 1)


@dataclass(frozen=True)
class Config:
    text: TextConfig = field(default_factory=TextConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SECTIONS: dict[str, type] = {"text": TextConfig, "model": ModelConfig, "train": TrainConfig}

# (minimum, maximum, minimum inclusive?, maximum inclusive?) for numeric keys.
MAX_LENGTH = 10_000  # ids per tweet: far beyond any tweet, and bounds every id array

RANGES: dict[str, tuple[float | None, float | None, bool, bool]] = {
    "text.max_tokens": (3, 10_000_000, True, True),
    "text.min_count": (1, None, True, True),
    "text.max_length": (1, MAX_LENGTH, True, True),
    "model.units": (1, 65_536, True, True),
    "model.layers": (1, 64, True, True),
    "model.embedding_dim": (1, 65_536, True, True),
    "model.embedding_dropout": (0, 1, True, False),
    "model.dropout": (0, 1, True, False),
    "model.recurrent_dropout": (0, 1, True, False),
    "model.subwords": (0, 10_000_000, True, True),
    "train.epochs": (1, 1_000_000, True, True),
    "train.batch_size": (1, 1_000_000, True, True),
    "train.learning_rate": (0, None, False, True),
    "train.weight_decay": (0, None, True, True),
    "train.clipnorm": (0, None, False, True),
    "train.validation_split": (0, 1, False, False),
    "train.early_stopping_patience": (0, None, True, True),
    "train.reduce_lr_factor": (0, 1, False, True),
    "train.pretrain_epochs": (1, None, True, True),
    "train.augment_negation": (0, 1, True, True),
    "train.pseudo_labels": (0, 1000, False, True),
    "train.pseudo_weight": (0, 1, False, True),
    "train.augment_negated_negatives": (0, 1, True, True),
    "train.augment_contrast": (0, 1, True, True),
    "train.augment_weight": (0, 1, False, True),
    "train.members": (1, 100, True, True),
    "train.seed": (0, 2**32 - 1, True, True),  # what NumPy's and scikit-learn's seeds take
}


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "null"
    words = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}
    return {**words, dict: "a mapping"}[tp]


def _coerce(value: Any, tp: Any) -> tuple[bool, Any]:
    """Return (ok, value) where value is converted to tp when that is lossless."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return (value in typing.get_args(tp) and isinstance(value, str)), value
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            ok, converted = _coerce(value, arg)
            if ok:
                return True, converted
        return False, value
    if tp is type(None):
        return value is None, value
    if tp is bool:
        return isinstance(value, bool), value
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, float(value)
        # PyYAML (YAML 1.1) reads "3e-4" as a string; accept scientific notation.
        if isinstance(value, str) and _SCIENTIFIC.match(value.strip()):
            return True, float(value)
        return False, value
    return isinstance(value, tp), value


def _check_range(key: str, value: Any, where: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise SentimentError(f"{where}: {key} must be a finite number, got {brief(value)}")
    if key not in RANGES or value is None or isinstance(value, str):  # e.g. batch_size: auto
        return
    low, high, low_inc, high_inc = RANGES[key]
    too_low = low is not None and (value < low if low_inc else value <= low)
    too_high = high is not None and (value > high if high_inc else value >= high)
    if too_low or too_high:
        left, right = "[" if low_inc else "(", "]" if high_inc else ")"
        low_text, high_text = "-inf" if low is None else low, "inf" if high is None else high
        interval = f"{left}{low_text}, {high_text}{right}"
        raise SentimentError(f"{where}: {key} must be in {interval}, got {brief(value)}")


def _check_initializer(key: str, value: Any, where: str) -> None:
    if isinstance(value, dict):
        unknown = set(value) - {"class_name", "config", "module", "registered_name"}
        if "class_name" not in value or unknown:
            raise SentimentError(
                f"{where}: {key} must be a Keras initializer name (e.g. 'orthogonal') or a "
                f"mapping {{class_name: Orthogonal, config: {{gain: 1.0}}}}, got {brief(value)}"
            )
        if not isinstance(value.get("config", {}), dict):
            raise SentimentError(
                f"{where}: {key}.config must be a mapping, got {brief(value['config'])}"
            )


_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxstring, _BRIEF.maxother, _BRIEF.maxlist, _BRIEF.maxdict = 3, 60, 60, 6, 6


def brief(value: Any) -> str:
    """A short repr for messages: nested or aliased YAML ("billion laughs") is cut, not
    expanded."""
    return _BRIEF.repr(value)


def _suggest(word: str, choices: typing.Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def build_config(raw: Any, where: str) -> Config:
    """Validate a nested mapping (as read from YAML) and return a frozen Config."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise SentimentError(
            f"{where}: expected a mapping with sections {', '.join(SECTIONS)}, "
            f"got {type(raw).__name__}"
        )
    sections = {}
    for section_name, value in raw.items():
        if section_name not in SECTIONS:
            raise SentimentError(
                f"{where}: unknown section {section_name!r}"
                f"{_suggest(str(section_name), SECTIONS)}; "
                f"expected {', '.join(SECTIONS)}"
            )
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise SentimentError(f"{where}: section {section_name!r} must be a mapping of keys")
        sections[section_name] = value

    built = {}
    for section_name, cls in SECTIONS.items():
        values = sections.get(section_name, {})
        hints = typing.get_type_hints(cls)
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {}
        for key, value in values.items():
            dotted = f"{section_name}.{key}"
            if key not in known:
                raise SentimentError(
                    f"{where}: unknown key {dotted!r}{_suggest(str(key), known)}; "
                    f"valid keys in {section_name}: {', '.join(sorted(known))}"
                )
            ok, converted = _coerce(value, hints[key])
            if not ok:
                raise SentimentError(
                    f"{where}: {dotted} must be {_describe(hints[key])}, got {brief(value)}"
                )
            _check_range(dotted, converted, where)
            if key in ("kernel_initializer", "recurrent_initializer"):
                _check_initializer(dotted, converted, where)
            kwargs[key] = converted
        built[section_name] = cls(**kwargs)
    return Config(**built)


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse ``section.key=value`` (value as YAML) into (["section", "key"], value)."""
    if "=" not in text:
        raise SentimentError(f"--set {brief(text)}: expected KEY=VALUE, e.g. --set model.units=64")
    key, _, value_text = text.partition("=")
    parts = key.strip().split(".")
    if len(parts) != 2 or not all(parts):
        raise SentimentError(
            f"--set {brief(text)}: the key must be SECTION.KEY (sections: {', '.join(SECTIONS)}), "
            f"e.g. --set model.units=64"
        )
    try:
        value = yaml.safe_load(value_text) if value_text.strip() else None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SentimentError(
            f"--set {brief(text)}: the value is not valid YAML: {problem}"
        ) from None
    except RecursionError:
        raise SentimentError(f"--set {brief(text)}: the value is nested too deeply") from None
    return parts, value


def read_yaml(path: Path) -> Any:
    path = Path(path)
    if not path.exists():
        raise SentimentError(f"config file {str(path)!r} does not exist")
    if path.is_dir():
        raise SentimentError(f"config file {str(path)!r} is a directory, expected a YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SentimentError(f"config file {str(path)!r} is not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise SentimentError(f"config file {str(path)!r} cannot be read: {exc.strerror}") from None
    try:
        # safe_load refuses tags such as !!python/object that would construct Python objects.
        return yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        raise SentimentError(
            f"config file {str(path)!r}, line {mark.line + 1}: the tag {exc.problem.split()[-1]} "
            f"is refused: configs are plain YAML, tags that construct Python objects are not "
            f"loaded"
        ) from None
    except RecursionError:
        raise SentimentError(f"config file {str(path)!r} is nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SentimentError(
            f"config file {str(path)!r} is not valid YAML{at}: {problem}"
        ) from None


def default_config_path() -> Path:
    return CONFIG_DIR / DEFAULT_CONFIG_NAME


def shipped_configs() -> list[str]:
    """Names of the configs shipped with the tool (``--config NAME``)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def shipped_file(name: str) -> Path:
    """A file shipped beside the configs, e.g. ``tune/space.yaml``."""
    return CONFIG_DIR / name


def config_path(name_or_path: str | Path) -> Path:
    """``--config``: a YAML file, or the name of a shipped config (``gru``)."""
    path = Path(name_or_path)
    if path.exists() or path.suffix in (".yaml", ".yml") or len(path.parts) > 1:
        return path
    shipped = CONFIG_DIR / f"{path.name}.yaml"
    if shipped.is_file():
        return shipped
    raise SentimentError(
        f"--config {str(name_or_path)!r}: no such file, and not a shipped config "
        f"({', '.join(shipped_configs())}){_suggest(path.name, shipped_configs())}"
    )


def load_config(path: str | Path | None = None, overrides: typing.Sequence[str] = ()) -> Config:
    """Load a YAML config (the default ``configs/lstm.yaml`` when path is None) and apply
    ``section.key=value`` overrides through the same validator."""
    if path is None:
        path = default_config_path()
        raw = read_yaml(path) if path.exists() else {}
    else:
        path = config_path(path)
        raw = read_yaml(path)
    where = f"config {str(path)!r}"
    config = build_config(raw, where)  # the file alone must be valid
    return with_overrides(config, overrides) if overrides else config


def with_overrides(config: Config, overrides: typing.Sequence[str]) -> Config:
    """``config`` with ``section.key=value`` overrides applied, through the validator."""
    merged = config.to_dict()
    for text in overrides:
        (section, key), value = parse_override(text)
        if section not in SECTIONS:
            hint = _suggest(section, SECTIONS)
            raise SentimentError(
                f"--set {brief(text)}: unknown section {brief(section)}{hint}; "
                f"expected {', '.join(SECTIONS)}"
            )
        merged[section][key] = value
    return build_config(merged, "--set")


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
