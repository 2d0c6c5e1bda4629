"""Read labelled tweets (and unlabelled texts) from CSV files, with errors that name
the file, row and column.

Accepted encodings: UTF-8 (with or without a byte-order mark), and UTF-16 or UTF-32 with a
byte-order mark (what spreadsheet programs write as "Unicode text"). Anything else
(Latin-1, Windows-1252, binary files) is refused with the position of the first
byte that is not UTF-8.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sentiment_cli.errors import SentimentError
from sentiment_cli.io.files import TextStream, open_binary
from sentiment_cli.limits import MAX_COLUMNS

MAX_CLASSES = 50  # more distinct labels than this is almost always the wrong column


@dataclass(frozen=True)
class LabelledData:
    texts: list[str]
    labels: list[str]
    dropped: int  # rows dropped for empty text or label
    path: str
    categories: list[str] | None = None  # per-row group (e.g. a probe's category), if read

    def __len__(self) -> int:
        return len(self.texts)


def read_text_file(path: str | Path) -> str:
    """Read a whole file as text, checking existence, type and encoding."""
    name = str(path)
    with open_binary(path) as handle:
        stream = TextStream(handle, name)
        text = stream.read()
    if not stream.offset:
        raise SentimentError(f"{name}: file is empty (0 bytes), expected a CSV with a header row")
    return text


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_EOF_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def parse_csv(text: str, name: str):
    """pandas.read_csv on decoded text, every column as str, empty cells as ''."""
    import pandas as pd  # here: predicting a few texts given as arguments needs no pandas

    check_header(text[: text.find("\n") + 1 or len(text)], name)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except pd.errors.EmptyDataError:
        raise SentimentError(f"{name}: no header row found, expected a CSV file") from None
    except pd.errors.ParserError as exc:
        raise SentimentError(parser_message(str(exc), name)) from None


def check_header(line: str, name: str) -> None:
    """Refuse a header row that names a column twice (pandas would rename one)."""
    check_names(next(csv.reader(io.StringIO(line)), []), name)


def check_names(header: list[str], name: str) -> None:
    if len(header) > MAX_COLUMNS:
        raise SentimentError(
            f"{name}: the header has {len(header):,} columns, more than the {MAX_COLUMNS:,} "
            f"accepted; is this a CSV of tweets?"
        )
    counts = Counter(header)
    duplicates = sorted(c for c, n in counts.items() if n > 1)
    if duplicates:
        raise SentimentError(
            f"{name}: duplicate column name(s) {', '.join(map(repr, duplicates))} in the header; "
            f"each column needs a unique name"
        )


def parser_message(message: str, name: str) -> str:
    if m := _FIELDS.search(message):
        expected, line, saw = m.groups()
        return (
            f"{name}: line {line} has {saw} fields, expected {expected} like the header; "
            f'put texts that contain commas in double quotes ("...")'
        )
    if m := _EOF_QUOTE.search(message):
        return (
            f"{name}: unterminated quote: the quoted field starting on line {int(m.group(1)) + 1} "
            f"is never closed"
        )
    return f"{name}: not a valid CSV file: {message.strip()}"


def check_column(df, column: str, name: str, option: str) -> None:
    """``df``: a DataFrame, or the list of column names."""
    names = list(df.columns) if hasattr(df, "columns") else list(df)
    if column in names:
        return
    columns = [str(c) for c in names]
    close = difflib.get_close_matches(column, columns, n=1, cutoff=0.5)
    hint = (
        f"; did you mean {close[0]!r} ({option} {close[0]})?"
        if close
        else f"; choose one with {option}"
    )
    raise SentimentError(
        f"{name}: no column {column!r}; the columns are {', '.join(map(repr, columns))}{hint}"
    )


def read_labelled(
    path: str | Path,
    text_column: str = "text",
    label_column: str = "label",
    category_column: str | None = None,
) -> LabelledData:
    """Read a labelled CSV. Rows with empty (or whitespace-only) text or label are
    dropped and counted; labels are kept as stripped strings in Unicode's composed form
    (NFC), so that "é" typed as one code point or as two is one label. ``category_column``, when
    the file has it, is read too (a group per row, for per-group scores)."""
    name = str(path)
    df = parse_csv(read_text_file(path), name)
    check_column(df, text_column, name, "--text-column")
    check_column(df, label_column, name, "--label-column")
    if df.empty:
        raise SentimentError(f"{name}: has a header but no data rows")
    texts = df[text_column].astype(str)
    labels = df[label_column].astype(str).str.strip().str.normalize("NFC")
    keep = (texts.str.strip() != "") & (labels != "")
    dropped = int((~keep).sum())
    if not keep.any():
        raise SentimentError(
            f"{name}: all {len(df)} rows have an empty {text_column!r} or {label_column!r}"
        )
    categories = None
    if category_column is not None and category_column in df.columns:
        categories = df[category_column].astype(str).str.strip()[keep].tolist()
    return LabelledData(
        texts=texts[keep].tolist(),
        labels=labels[keep].tolist(),
        dropped=dropped,
        path=name,
        categories=categories,
    )


def check_training_labels(data: LabelledData, label_column: str) -> list[str]:
    """The sorted label set, refusing one class or implausibly many."""
    classes = sorted(set(data.labels))
    if len(classes) < 2:
        raise SentimentError(
            f"{data.path}: column {label_column!r} has only one class ({classes[0]!r}); "
            f"training needs at least 2"
        )
    if len(classes) > MAX_CLASSES:
        raise SentimentError(
            f"{data.path}: column {label_column!r} has {len(classes)} distinct labels "
            f"(more than {MAX_CLASSES}); is it the right column? Choose one with --label-column"
        )
    return classes
