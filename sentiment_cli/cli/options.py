"""Options and behaviour that several commands share, each declared once."""

from __future__ import annotations

import functools
import math
from pathlib import Path

import click

from sentiment_cli.errors import SentimentError
from sentiment_cli.io.tables import printable


def handle_errors(func):
    """Show SentimentError as 'Error: message' with exit status 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SentimentError as exc:
            raise click.ClickException(printable(str(exc))) from None
        except OSError as exc:  # the last line of defence: a path and a reason, one line
            if exc.errno is None:
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(printable(f"{where}{exc.strerror or exc}")) from None
        except MemoryError:
            raise click.ClickException(
                "out of memory: the input or the model is too large for this machine "
                "(see the limits in docs/configs.md)"
            ) from None

    return wrapper


def log(message: str) -> None:
    """Progress notes go to stderr, so stdout holds only the result."""
    say(message, err=True)


def say(message: str, err: bool = False) -> None:
    """A line for a person: paths, labels and texts in it shown as they are, escape
    sequences and undecodable file names made visible (``io.tables.printable``)."""
    click.echo(printable(message), err=err)


def echo_json(payload) -> None:
    """JSON on stdout (``io.writers.json_text``)."""
    from sentiment_cli.io.writers import json_text

    click.echo(json_text(payload, indent=2))


def column_options(func):
    func = click.option(
        "--label-column", default="label", show_default=True, help="Column holding the labels."
    )(func)
    func = click.option(
        "--text-column", default="text", show_default=True, help="Column holding the tweets."
    )(func)
    return func


def config_option(help_text: str):
    return click.option(
        "--config",
        "-c",
        "config_path",
        default=None,
        metavar="NAME|FILE",
        help=help_text,
    )


def overrides_option(func):
    return click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override a config key, e.g. --set model.units=64 (repeatable).",
    )(func)


def val_data_option(func):
    return click.option(
        "--val-data",
        type=click.Path(path_type=Path),
        default=None,
        help=(
            "Validation CSV; without it a stratified split of DATA is held out, copies of "
            "a tweet on one side, and not the tweets the encoder (or --from's model) was "
            "trained on where DATA holds 5% or more of them."
        ),
    )(func)


def force_option(help_text: str = "Replace an existing model folder."):
    return click.option("--force", is_flag=True, help=help_text)


def output_dir_option(help_text: str, required: bool = True, callback=None):
    return click.option(
        "--output-dir",
        "-o",
        required=required,
        default=None,
        type=click.Path(path_type=Path, file_okay=False),
        callback=callback,
        help=help_text,
    )


def not_a_model_folder(ctx, param, value):
    """Reports and splits go elsewhere: a model folder is never written into."""
    from sentiment_cli.runtime.model_folder import is_model_folder

    if value is not None and is_model_folder(Path(value)):
        raise click.BadParameter(
            f"{value} is a model folder; write {param.name.replace('_', '-')} files elsewhere"
        )
    return value


def report_dir_option(help_text: str):
    return click.option(
        "--report-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        callback=not_a_model_folder,
        help=help_text,
    )


def format_option(choices: list[str]):
    return click.option(
        "--format", "-f", "fmt", type=click.Choice(choices), default="table", show_default=True
    )


def runtime_option(func):
    return click.option(
        "--runtime",
        type=click.Choice(["numpy", "keras"]),
        default="numpy",
        show_default=True,
        help="numpy: the TensorFlow-free runtime; keras: the Keras model (to verify).",
    )(func)


def builtin_if_missing(ctx, param, value):
    """No model folder given: the model shipped inside the package
    (``resources.builtin_model_dir``)."""
    from sentiment_cli.resources import builtin_model_dir

    if value is None:
        return builtin_model_dir()
    if value == ():
        return (builtin_model_dir(),)
    return value


def model_dir_option(multiple: bool = False):
    return click.option(
        "--model-dir",
        "model_dir",
        multiple=multiple,
        type=click.Path(path_type=Path),
        callback=builtin_if_missing,
        help="Model folder written by 'sentiment-cli train'"
        + (" (repeat to compare several models)" if multiple else "")
        + "; default: the built-in model.",
    )


def model_dir_argument(func):
    return click.argument(
        "model_dir", required=False, type=click.Path(path_type=Path), callback=builtin_if_missing
    )(func)


def int_list(ctx, param, value):
    try:
        numbers = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated integers, got {value!r}") from None
    if not numbers or min(numbers) < 1 or max(numbers) > 10_000:
        raise click.BadParameter(f"expected integers from 1 to 10000, got {value!r}")
    return numbers


def float_list(ctx, param, value):
    try:
        numbers = [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"expected comma-separated numbers, got {value!r}") from None
    if not numbers or not all(0 < n < 1e3 for n in numbers):  # False for NaN
        raise click.BadParameter(f"expected numbers in (0, 1000), got {value!r}")
    return numbers


def seed_option(func):
    return click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=42, show_default=True)(
        func
    )


class FiniteFloatRange(click.FloatRange):
    """click's FloatRange, which lets NaN through every bound (NaN compares false):
    here NaN and infinities are refused."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


def min_confidence_option(help_text: str):
    return click.option(
        "--min-confidence",
        type=FiniteFloatRange(0.0, 1.0),
        default=None,
        metavar="P",
        help=help_text,
    )


def engine_options(func):
    """--engine, --workers and --address: where ``train`` and ``pretrain`` fit."""
    func = click.option(
        "--address",
        default=None,
        help="With --engine ray: join this Ray cluster (else start a local one).",
    )(func)
    func = click.option(
        "--workers",
        type=click.IntRange(1, 1024),
        default=2,
        show_default=True,
        help="With --engine ray: training workers (one CPU each).",
    )(func)
    return click.option(
        "--engine",
        type=click.Choice(["keras", "ray"]),
        default=None,
        help="keras (default): fit in this process. ray: fit data-parallel on --workers Ray "
        "workers (needs sentiment-cli[ray]), checkpointed every epoch through Ray; the same "
        "model folder. With --resume: the interrupted run's engine unless given.",
    )(func)


def engine_of(engine: str | None, workers: int, address: str | None):
    """A ``distributed.Engine`` for --engine ray; "keras" or None as given (--workers and
    --address refused without --engine ray)."""
    if engine != "ray":
        source = click.get_current_context().get_parameter_source
        given = [
            f"--{name}"
            for name in ("workers", "address")
            if source(name) is not click.core.ParameterSource.DEFAULT
        ]
        if given:
            raise SentimentError(f"{' and '.join(given)} go with --engine ray")
        return engine
    from sentiment_cli.training.distributed import Engine, check_address, require_ray

    require_ray()
    if address:
        check_address(address)  # before the data is read
    return Engine(workers=workers, address=address)
