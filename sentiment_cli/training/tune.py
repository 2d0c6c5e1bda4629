"""`sentiment-cli tune`: a hyperparameter search with KerasTuner on validation data.

The search space is a YAML mapping of config keys (as in ``--set``) to the values to
try: a list (a choice) or ``{min, max}`` with an optional ``step`` and ``log: true``
(a range; integers when both ends and the step are integers)::

    model.cell: [lstm, gru]
    model.units: [32, 64, 128]
    model.embedding_dropout: {min: 0.0, max: 0.4, step: 0.1}
    train.learning_rate: {min: 0.0003, max: 0.003, log: true}

The data is read, tokenized and encoded once; each trial builds and fits a model of its
config and is scored by validation macro recall. The search ends after ``max_trials``
trials or ``max_minutes`` (a running trial stops at its next epoch end), whichever
comes first. The best config is then trained into a normal model folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sentiment_cli.config import Config, build_config, read_yaml
from sentiment_cli.errors import SentimentError
from sentiment_cli.training.batches import fit_arguments

# Keys a trial may change. Text settings and augmentation shape the data, which is
# prepared once for the whole search; seeds and bookkeeping are not hyperparameters.
SEARCHABLE_TRAIN = ("learning_rate", "weight_decay", "batch_size", "clipnorm", "class_weight")
OBJECTIVE = "val_macro_recall"
TUNING_FILE = "tuning.json"


@dataclass(frozen=True)
class Param:
    key: str  # section.key
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False

    @property
    def integer(self) -> bool:
        ends = (self.low, self.high, *(() if self.step is None else (self.step,)))
        return all(isinstance(v, int) and not isinstance(v, bool) for v in ends)

    def define(self, hp):
        """This parameter in a KerasTuner ``HyperParameters`` object; its value."""
        if self.choices is not None:
            return hp.Choice(self.key, list(self.choices))
        sampling = "log" if self.log else "linear"
        if self.integer:
            return hp.Int(self.key, self.low, self.high, step=self.step, sampling=sampling)
        return hp.Float(self.key, self.low, self.high, step=self.step, sampling=sampling)


def with_values(config: Config, values: dict[str, Any], where: str) -> Config:
    """``config`` with ``values`` (dotted keys) set, through the config validator."""
    merged = config.to_dict()
    for key, value in values.items():
        section, name = key.split(".")
        merged[section][name] = value
    return build_config(merged, where)


def load_space(path: str | Path, config: Config) -> list[Param]:
    """Read and check a search space: every key searchable, every value valid."""
    raw = read_yaml(Path(path))
    where = f"search space {str(path)!r}"
    if not isinstance(raw, dict) or not raw:
        raise SentimentError(f"{where}: expected a mapping of config keys to values to try")
    params = []
    for key, spec in raw.items():
        key = str(key)
        check_searchable(key, where)
        param = parse_param(key, spec, where)
        ends = param.choices if param.choices is not None else (param.low, param.high)
        for value in ends:
            with_values(config, {key: value}, f"{where}, {key}")
        params.append(param)
    return params


def check_searchable(key: str, where: str) -> None:
    section, _, name = key.partition(".")
    known = {f.name for f in dataclasses.fields(Config)}
    if section not in known or not name:
        raise SentimentError(
            f"{where}: {key!r} is not a config key (SECTION.KEY, e.g. model.units)"
        )
    if section == "text" or (section == "train" and name not in SEARCHABLE_TRAIN):
        allowed = ", ".join(f"train.{n}" for n in SEARCHABLE_TRAIN)
        raise SentimentError(
            f"{where}: {key} cannot be searched: the data is tokenized and augmented once for "
            f"the whole search. Searchable: model.* and {allowed}; set {key} in --config"
        )


def parse_param(key: str, spec: Any, where: str) -> Param:
    if isinstance(spec, list):
        if not spec or len({repr(v) for v in spec}) != len(spec):
            raise SentimentError(f"{where}: {key}: the list of choices must be non-empty, unique")
        if not all(isinstance(v, (bool, int, float, str)) for v in spec):
            raise SentimentError(f"{where}: {key}: choices must be numbers, strings or booleans")
        return Param(key, choices=tuple(spec))
    if isinstance(spec, dict) and {"min", "max"} <= set(spec) <= {"min", "max", "step", "log"}:
        low, high, step = spec["min"], spec["max"], spec.get("step")
        numbers = [v for v in (low, high, step) if v is not None]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers):
            raise SentimentError(f"{where}: {key}: min, max and step must be numbers")
        if not low < high or (step is not None and step <= 0):
            raise SentimentError(f"{where}: {key}: expected min < max and step > 0")
        log = spec.get("log", False)
        if log is not False and (log is not True or low <= 0 or step is not None):
            raise SentimentError(f"{where}: {key}: log: true needs min > 0 and no step")
        return Param(key, low=low, high=high, step=step, log=log)
    raise SentimentError(
        f"{where}: {key}: expected a list of choices or {{min, max}} with optional step and "
        f"log: true, got {spec!r}"
    )


def search(
    data_path,
    val_path,
    config: Config,
    space: list[Param],
    *,
    max_minutes: float,
    max_trials: int,
    algorithm: str,
    work_dir: Path,
    text_column: str = "text",
    label_column: str = "label",
    token_cache: Path | None = None,
    log=print,
) -> tuple[dict[str, Any], list[dict]]:
    """Run the search; (the best trial and its values, one row per trial). The tokens
    go to ``token_cache``, where training the best config finds them again."""
    from sentiment_cli.models import backend

    keras = backend.load()
    import keras_tuner

    from sentiment_cli.training.prepare import load_splits, prepare

    splits = load_splits(data_path, val_path, config, text_column, label_column, log)
    prepared = prepare(splits, config, text_column, label_column, log, cache=token_cache)
    deadline = time.monotonic() + max_minutes * 60
    hypermodel = _hypermodel(keras_tuner, keras, config, space, prepared, deadline)
    objective = keras_tuner.Objective(OBJECTIVE, direction="max")
    common = dict(
        objective=objective,
        directory=str(work_dir),
        project_name="search",
        overwrite=True,
        seed=config.train.seed,
    )
    if algorithm == "hyperband":
        tuner_class, options = keras_tuner.Hyperband, {"max_epochs": config.train.epochs}
    else:
        tuner_class, options = keras_tuner.BayesianOptimization, {"max_trials": max_trials}
    started, tuner = time.monotonic(), None
    try:  # KerasTuner builds a first model already when it is made
        tuner = _time_boxed(tuner_class, deadline, max_trials)(hypermodel, **common, **options)
        with _expected_noise_hidden():
            tuner.search(verbose=0)
    except SentimentError:
        raise
    except Exception as exc:  # a trial's error, or KerasTuner giving up after several
        first = str(exc).strip().splitlines()[:1] or [""]
        detail = f"{type(exc).__name__}: {first[0][:200]}"
        raise _failed(tuner) or SentimentError(f"tune: a trial failed with {detail}") from None
    trials = trial_rows(tuner, space)
    log(f"Search: {len(trials)} trial(s) in {time.monotonic() - started:.0f}s ({algorithm})")
    scored = [row for row in trials if row[OBJECTIVE] is not None]
    if not scored:
        raise _failed(tuner) or SentimentError(
            "tune: no trial finished an epoch; give it more --max-minutes"
        )
    winner = max(scored, key=lambda row: row[OBJECTIVE])  # the first of equals
    return {"trial": winner["trial"], "values": {p.key: winner[p.key] for p in space}}, trials


def _failed(tuner) -> SentimentError | None:
    """The error of the trials that failed (KerasTuner keeps each one's traceback as its
    message), or None when none did."""
    trials = tuner.oracle.trials.values() if tuner is not None else []
    failed = [t for t in trials if str(getattr(t, "status", "")) == "FAILED"]
    if not failed:
        return None
    lines = (getattr(failed[0], "message", None) or "").strip().splitlines()
    return SentimentError(
        f"tune: {len(failed)} trial(s) failed; the first with: {lines[-1] if lines else '?'}"
    )


@dataclass
class TuneResult:
    """What ``tune`` did: the model folder of the best config, the best trial and its
    values, one row per trial."""

    output_dir: Path
    best: dict[str, Any]
    trials: list[dict]


def tune(
    data_path: str | Path,
    output_dir: str | Path,
    config: Config,
    *,
    space: str | Path | None = None,
    val_data: str | Path | None = None,
    max_minutes: float = 20.0,
    max_trials: int = 20,
    algorithm: str = "bayesian",
    force: bool = False,
    text_column: str = "text",
    label_column: str = "label",
    log=print,
) -> TuneResult:
    """``sentiment-cli tune``: search ``space`` (default: the shipped tune/space.yaml)
    from ``config``, then train the best config into ``output_dir``, a model folder
    whose tuning.json lists every trial. Needs KerasTuner (the tune extra)."""
    import tempfile

    from sentiment_cli.config import shipped_file
    from sentiment_cli.extras import require
    from sentiment_cli.runtime.model_folder import check_output_dir
    from sentiment_cli.training.token_cache import cache_dir
    from sentiment_cli.training.train import train

    require("tune", "tune", "keras_tuner")
    output_dir = Path(output_dir)
    check_output_dir(output_dir, force)
    params = load_space(space or shipped_file("tune/space.yaml"), config)
    columns = {"text_column": text_column, "label_column": label_column}
    with tempfile.TemporaryDirectory(prefix="sentiment-tune-") as work:
        best, trials = search(
            data_path,
            val_data,
            config,
            params,
            max_minutes=max_minutes,
            max_trials=max_trials,
            algorithm=algorithm,
            work_dir=Path(work),
            token_cache=cache_dir(output_dir),
            log=log,
            **columns,
        )
    log("Best: " + ", ".join(f"{k}={v}" for k, v in best["values"].items()))
    tuning = {"algorithm": algorithm, "objective": OBJECTIVE, "best": best, "trials": trials}
    train(
        data_path,
        output_dir,
        with_values(config, best["values"], "tune"),
        val_path=val_data,
        force=force,
        verbose=0,
        log=log,
        extra_files={TUNING_FILE: tuning},
        **columns,
    )
    return TuneResult(output_dir, best, trials)


@contextlib.contextmanager
def _expected_noise_hidden():
    """Two messages every search causes, about the search itself rather than the user's
    data: a model of new shapes per trial (TensorFlow's "retracing" warning), and
    Hyperband reloading a trial without its optimizer's state."""

    class Retracing(logging.Filter):
        def filter(self, record):
            return "triggered tf.function retracing" not in record.getMessage()

    logger, hidden = logging.getLogger("tensorflow"), Retracing()
    logger.addFilter(hidden)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            yield
    finally:
        logger.removeFilter(hidden)


def _time_boxed(tuner_class, deadline: float, max_trials: int):
    class TimeBoxed(tuner_class):
        """Creates no new trial past the deadline or the trial budget."""

        def pre_create_trial(self):
            done = len(self.oracle.trials)
            if done and (time.monotonic() >= deadline or done >= max_trials):
                self.oracle.max_trials = done  # the oracle then answers STOPPED
            super().pre_create_trial()

    return TimeBoxed


def _hypermodel(keras_tuner, keras, config, space, prepared, deadline):
    from sentiment_cli.training.callbacks import MacroRecall
    from sentiment_cli.training.fit import loss_weights
    from sentiment_cli.training.start import new_model

    n_classes = len(prepared.splits.classes)

    class Deadline(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if time.monotonic() >= deadline:
                self.model.stop_training = True

    class SentimentHyperModel(keras_tuner.HyperModel):
        def trial_config(self, hp) -> Config:
            return with_values(config, {p.key: p.define(hp) for p in space}, "tune")

        def build(self, hp):
            # Each trial starts from the same seed: its score depends on its values
            # alone, and a search from Python repeats the command's to the bit.
            keras.utils.set_random_seed(config.train.seed)
            return new_model(self.trial_config(hp), prepared, lambda message: None)[0]

        def fit(self, hp, model, *args, **kwargs):
            trial = self.trial_config(hp)
            weights, sample_weights = loss_weights(trial, prepared, lambda message: None)
            stop = keras.callbacks.EarlyStopping(
                monitor=OBJECTIVE,
                mode="max",
                patience=trial.train.early_stopping_patience,
                restore_best_weights=True,
            )
            callbacks = [MacroRecall(prepared.x_val.ids, prepared.y_val, n_classes)]
            return model.fit(
                **fit_arguments(
                    trial,
                    (prepared.x_train.ids, prepared.y_train),
                    (prepared.x_val.ids, prepared.y_val),
                    weights,
                    sample_weights,
                    seed=trial.train.seed,
                ),
                epochs=kwargs.get("epochs", trial.train.epochs),
                initial_epoch=kwargs.get("initial_epoch", 0),
                callbacks=[*callbacks, stop, Deadline(), *kwargs.get("callbacks", [])],
                verbose=0,
            )

    return SentimentHyperModel()


def trial_rows(tuner, space: list[Param]) -> list[dict]:
    """One row per trial, in the order they ran: id, values, best validation macro
    recall (None when no epoch finished)."""
    rows = []
    for trial_id, trial in sorted(tuner.oracle.trials.items()):
        score = trial.metrics.get_best_value(OBJECTIVE) if trial.metrics.exists(OBJECTIVE) else None
        values = {p.key: trial.hyperparameters.values.get(p.key) for p in space}
        finite = score is not None and math.isfinite(score)
        rows.append({"trial": trial_id, **values, OBJECTIVE: score if finite else None})
    return rows
