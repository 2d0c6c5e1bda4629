"""Prediction and trace writers: table, JSON, JSON lines, CSV and Parquet.

A writer consumes scored batches as they come (``write(batch)``) and never runs the
model: the caller reads, scores and hands each batch over, so memory stays bounded for
any input. Everything goes to stdout or, through ``atomic_output``, to a file that is
complete or not there at all.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Protocol

from sentiment_cli.errors import SentimentError
from sentiment_cli.extras import require
from sentiment_cli.io.atomic import atomic_output
from sentiment_cli.io.tables import console, short, table


class Batch(Protocol):
    """What a writer reads of a scored batch (``runtime.predict.Scored``)."""

    texts: list[str]
    labels: list[str]
    probabilities: object

    @property
    def predicted(self) -> list[str]: ...

    def rows(self) -> Iterator[list]: ...

    def records(self) -> list[dict]: ...


Write = Callable[[Batch], None]


def is_utf8(text: str) -> bool:
    """Whether UTF-8 can encode ``text``: not when it holds a lone surrogate, as a file
    name or an argument whose bytes were not UTF-8 leaves in a Python string."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_text(payload, indent: int | None = None) -> str:
    """``payload`` as JSON, its text as it is where UTF-8 can encode it, and in \\u
    escapes where it holds a lone surrogate (read back as the same string)."""
    text = json.dumps(payload, indent=indent, ensure_ascii=False)
    return text if is_utf8(text) else json.dumps(payload, indent=indent)


@contextlib.contextmanager
def prediction_writer(fmt: str, output: Path | None, labels: list[str]) -> Iterator[Write]:
    """``write(batch)`` for one output in ``fmt``; the output is finished (and, for a
    file, renamed into place) when the block ends without an error."""
    if fmt == "parquet":
        with _parquet(output, labels) as write:
            yield write
        return
    with atomic_output(output) as handle:
        start, write, end = _TEXT_FORMATS[fmt](handle, labels)
        start()
        yield write
        end()


def _table(handle: IO[str], labels: list[str]):
    shown = table(["text", "label", *(f"p({label})" for label in labels)], left=2)
    shown.columns[0].overflow = "fold"
    shown.columns[1].style = "bold"

    def write(batch: Batch) -> None:
        for text, label, *probs in batch.rows():
            shown.add_row(short(text), label, *(f"{p:.3f}" for p in probs))

    return (lambda: None), write, (lambda: console(handle).print(shown))


def _json(handle: IO[str], labels: list[str]):
    state = {"first": True}

    def write(batch: Batch) -> None:
        for row in batch.records():
            prefix = "\n  " if state["first"] else ",\n  "
            handle.write(prefix + json_text(row))
            state["first"] = False

    return (lambda: handle.write("[")), write, (lambda: handle.write("\n]\n"))


def _jsonl(handle: IO[str], labels: list[str]):
    def write(batch: Batch) -> None:
        for row in batch.records():
            handle.write(json_text(row) + "\n")

    return (lambda: None), write, (lambda: None)


def _csv(handle: IO[str], labels: list[str]):
    writer = csv.writer(handle, lineterminator="\n")

    def write(batch: Batch) -> None:
        writer.writerows(
            [text, label, *[f"{p:.6f}" for p in probs]]
            for text, label, probs in zip(
                batch.texts, batch.predicted, batch.probabilities.tolist(), strict=True
            )
        )

    header = ["text", "label", *(f"p_{label}" for label in labels)]
    return (lambda: writer.writerow(header)), write, (lambda: None)


_TEXT_FORMATS = {"table": _table, "json": _json, "jsonl": _jsonl, "csv": _csv}


@contextlib.contextmanager
def _parquet(output: Path | None, labels: list[str]) -> Iterator[Write]:
    """The CSV columns as Parquet (pyarrow), one row group per batch."""
    if output is None:
        raise SentimentError("--format parquet writes a file: give --output FILE.parquet")
    require("writing Parquet", "parquet", "pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {"text": pa.string(), "label": pa.string()}
    columns.update({f"p_{label}": pa.float64() for label in labels})
    schema = pa.schema(list(columns.items()))
    with atomic_output(output, binary=True) as handle, pq.ParquetWriter(handle, schema) as writer:

        def write(batch: Batch) -> None:
            data = {"text": batch.texts, "label": batch.predicted}
            for i, label in enumerate(labels):
                data[f"p_{label}"] = batch.probabilities[:, i]
            writer.write_table(pa.table(data, schema=schema))

        yield write
