"""Read labelled tweets (and unlabelled texts) from CSV files, with errors that name
the file, row and column.

Accepted encodings: UTF-8 (with or without a byte-order mark) and UTF-16 with a
byte-order mark (what spreadsheet programs write as "Unicode text"). Anything else
(Latin-1, Windows-1252, binary files) is refused with the position of the first
byte that is not UTF-8.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentiment_cli.errors import SentimentError

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


class TextStream(io.TextIOBase):
    """Text decoded as it is read from a binary stream, the one decoding path of every
    input. The byte-order mark picks the encoding (UTF-8 without one); NUL characters
    are dropped (pandas' C parser stops at them); a byte that does not decode raises
    SentimentError naming its line and offset."""

    CHUNK = 1 << 16

    def __init__(self, binary, name: str):
        head = binary.peek(4)[:4] if hasattr(binary, "peek") else b""
        if head.startswith(codecs.BOM_UTF8):
            codec, self.encoding_name = "utf-8-sig", "UTF-8"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            codec, self.encoding_name = "utf-16", "UTF-16"
        else:
            codec, self.encoding_name = "utf-8", "UTF-8"
        self.binary, self.name = binary, name
        self.decoder = codecs.getincrementaldecoder(codec)()
        self.pending = ""  # decoded text; what is before self.at was already returned
        self.at = 0
        self.offset = 0  # bytes read from the binary stream
        self.line_breaks = 0  # line breaks decoded so far
        self.eof = False

    def _fill(self) -> None:
        raw = self.binary.read(self.CHUNK)
        self.eof = not raw
        undecoded = len(self.decoder.getstate()[0])  # a character split between chunks
        try:
            text = self.decoder.decode(raw, final=self.eof)
        except UnicodeDecodeError as exc:
            at = self.offset - undecoded + exc.start
            line = self.line_breaks + exc.object[: exc.start].count(b"\n") + 1
            raise SentimentError(
                f"{self.name}: not {self.encoding_name} text (another encoding, or not a text "
                f"file): byte 0x{exc.object[exc.start]:02x} at line {line} (offset {at}); save "
                f"the file as UTF-8 (Latin-1 and Windows-1252 are not accepted)"
            ) from None
        self.offset += len(raw)
        self.line_breaks += text.count("\n")
        # Drop what was returned before appending: lines are read without copying the rest.
        self.pending = self.pending[self.at :] + text.replace("\x00", "")
        self.at = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        if size is None or size < 0:  # the rest, joined once (linear in the file's size)
            parts = [self.pending[self.at :]]
            self.pending, self.at = "", 0
            while not self.eof:
                self._fill()
                parts.append(self.pending)
                self.pending = ""
            return "".join(parts)
        while not self.eof and len(self.pending) - self.at < size:
            self._fill()
        text = self.pending[self.at : self.at + size]
        self.at += len(text)
        return text

    def readline(self, size: int | None = -1) -> str:
        while not self.eof and self.pending.find("\n", self.at) < 0:
            self._fill()
        end = self.pending.find("\n", self.at) + 1 or len(self.pending)
        if size is not None and size >= 0:
            end = min(end, self.at + size)
        line = self.pending[self.at : end]
        self.at = end
        return line

    def unread(self, text: str) -> None:
        """Put ``text`` back in front of what is still to be read."""
        self.pending = text + self.pending[self.at :]
        self.at = 0

    def __iter__(self) -> Iterator[str]:
        """The remaining lines, each with its "\n" (as ``readline`` gives them), split a
        buffer at a time: the csv module then reads them without a Python call per line."""
        return itertools.chain.from_iterable(self._line_batches())

    def _line_batches(self) -> Iterator[list[str]]:
        while True:
            if not self.eof:
                self._fill()
            text = self.pending[self.at :]
            cut = len(text) if self.eof else text.rfind("\n") + 1
            self.pending, self.at = text[cut:], 0
            if cut:
                yield _LINES.findall(text, 0, cut)
            if self.eof and not self.pending:
                return


_LINES = re.compile(r"[^\n]*\n|[^\n]+")  # a line with its "\n", or the last one without


def open_binary(path: str | Path, expected: str = "a CSV file"):
    """Open a file for reading bytes, refusing what is missing, a directory or unreadable."""
    name = str(path)
    p = Path(path)
    if not p.exists():
        raise SentimentError(f"{name}: file does not exist")
    if p.is_dir():
        raise SentimentError(f"{name}: is a directory, expected {expected}")
    try:
        return open(p, "rb")  # noqa: SIM115 (the caller closes it)
    except PermissionError:
        raise SentimentError(f"{name}: permission denied, cannot read the file") from None
    except OSError as exc:
        raise SentimentError(f"{name}: cannot read the file: {exc.strerror}") from None


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
        raise SentimentError(_parser_message(str(exc), name)) from None


def check_header(line: str, name: str) -> None:
    """Refuse a header row that names a column twice (pandas would rename one)."""
    check_names(next(csv.reader(io.StringIO(line)), []), name)


def check_names(header: list[str], name: str) -> None:
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise SentimentError(
            f"{name}: duplicate column name(s) {', '.join(map(repr, duplicates))} in the header; "
            f"each column needs a unique name"
        )


def _parser_message(message: str, name: str) -> str:
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
    dropped and counted; labels are kept as stripped strings. ``category_column``, when
    the file has it, is read too (a group per row, for per-group scores)."""
    name = str(path)
    df = parse_csv(read_text_file(path), name)
    check_column(df, text_column, name, "--text-column")
    check_column(df, label_column, name, "--label-column")
    if df.empty:
        raise SentimentError(f"{name}: has a header but no data rows")
    texts = df[text_column].astype(str)
    labels = df[label_column].astype(str).str.strip()
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


def iter_texts(
    source: str,
    text_column: str = "text",
    input_format: str = "auto",
    chunk_size: int = 2048,
    progress=None,
) -> Iterator[list[str]]:
    """Texts in chunks from a CSV (the text column) or a plain file, one text per line,
    read as it goes (memory stays bounded for any input size). ``source`` '-' reads
    standard input. ``auto`` means CSV for names ending in .csv, lines otherwise. The
    file is opened (and a missing one refused) now; its content is read lazily.
    ``progress(bytes_read, texts)`` is called after every chunk."""
    import sys

    files = input_files(source) if source != "-" else ["-"]
    if len(files) > 1 or str(files[0]).lower().endswith(".parquet"):
        return _many(files, text_column, input_format, chunk_size, progress)
    source = str(files[0])
    name = "<stdin>" if source == "-" else source
    fmt = input_format
    if fmt == "auto":
        fmt = "csv" if name.lower().endswith(".csv") else "lines"
    if source == "-":
        binary = sys.stdin.buffer
        if not hasattr(binary, "peek"):
            binary = io.BufferedReader(binary)
    else:
        binary = open_binary(source, "a text or CSV file")
    stream = TextStream(binary, name)
    chunks = (
        _lines(stream, name, chunk_size)
        if fmt == "lines"
        else _csv_chunks(stream, name, text_column, chunk_size)
    )
    return _closing(chunks, binary if source != "-" else None, stream, progress)


INPUT_SUFFIXES = (".csv", ".parquet", ".txt", ".tsv", ".jsonl")


def input_files(source: str) -> list[str]:
    """The files an --input names: a file, a folder (its CSV, Parquet and text files,
    sorted) or a glob pattern."""
    import glob

    path = Path(source)
    if path.is_dir():
        found = sorted(str(p) for p in path.iterdir() if p.suffix.lower() in INPUT_SUFFIXES)
        if not found:
            raise SentimentError(f"{source}: folder holds no .csv, .parquet or .txt file")
        return found
    if any(ch in source for ch in "*?[") and not path.exists():
        found = sorted(p for p in glob.glob(source) if Path(p).is_file())
        if not found:
            raise SentimentError(f"{source}: no file matches this pattern")
        return found
    return [source]


def _many(files, text_column, input_format, chunk_size, progress) -> Iterator[list[str]]:
    """Chunks of every file in turn (Parquet read by row batches with pyarrow)."""
    for name in files:
        if str(name).lower().endswith(".parquet"):
            yield from _parquet_chunks(name, text_column, chunk_size)
        else:
            yield from iter_texts(name, text_column, input_format, chunk_size)


def _parquet_chunks(name: str, column: str, chunk_size: int) -> Iterator[list[str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SentimentError(
            f"{name}: reading Parquet needs pyarrow: pip install 'sentiment-cli[parquet]'"
        ) from None
    try:
        parquet = pq.ParquetFile(name)
    except (OSError, ValueError) as exc:
        raise SentimentError(f"{name}: not a readable Parquet file ({exc})") from None
    check_column(parquet.schema_arrow.names, column, name, "--text-column")
    if not parquet.metadata.num_rows:
        raise SentimentError(f"{name}: has no rows")
    for batch in parquet.iter_batches(batch_size=chunk_size, columns=[column]):
        yield ["" if t is None else str(t) for t in batch.column(0).to_pylist()]


def _closing(chunks: Iterator[list[str]], handle, stream, progress) -> Iterator[list[str]]:
    try:
        for chunk in chunks:
            yield chunk
            if progress is not None:
                progress(stream.offset, len(chunk))
    finally:
        if handle is not None:
            handle.close()


def _lines(stream: TextStream, name: str, chunk_size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    any_text = False
    for line in stream:
        line = line.rstrip("\r\n")
        if line.strip():
            chunk.append(line)
            any_text = True
        if len(chunk) >= chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
    if not any_text:
        raise SentimentError(f"{name}: holds no text (empty, or only empty lines)")


def _csv_chunks(stream: TextStream, name: str, column: str, chunk_size: int):
    """The text column in chunks, parsed with the csv module as the file streams in
    (RFC 4180 quoting; blank lines skipped, as pandas does), so that predicting a file
    needs no pandas and memory stays bounded."""
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise SentimentError(f"{name}: file is empty, expected a CSV with a header row")
        check_names(header, name)
        check_column(header, column, name, "--text-column")
        index, width = header.index(column), len(header)
        chunk: list[str] = []
        rows = 0
        for row in reader:
            if not row:
                continue
            if len(row) != width:
                raise SentimentError(_parser_message(
                    f"Expected {width} fields in line {reader.line_num}, saw {len(row)}", name
                ))  # fmt: skip
            chunk.append(row[index])
            if len(chunk) >= chunk_size:
                rows += len(chunk)
                yield chunk
                chunk = []
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise SentimentError(
                f"{name}: unterminated quote: a quoted field is never closed (at line "
                f"{reader.line_num})"
            ) from None
        raise SentimentError(
            f"{name}: not a valid CSV file at line {reader.line_num}: {exc}"
        ) from None
    if chunk:
        rows += len(chunk)
        yield chunk
    if not rows:
        raise SentimentError(f"{name}: has a header but no data rows")


def split_indices(
    labels: list[str], fraction: float, seed: int, name: str, log=None, what: str = "test"
) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held-out) row indices, ``fraction`` of the rows held out, stratified by
    label (scikit-learn). Falls back to a plain random split, with a warning, when a
    class has too few rows to appear on both sides."""
    from collections import Counter

    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:  # also refuses NaN
        raise SentimentError(f"{name}: the held-out fraction must be in (0, 1), got {fraction}")
    n = len(labels)
    n_out = int(np.ceil(n * fraction))
    if n < 2 or n_out >= n:
        raise SentimentError(
            f"{name}: {n} row(s) cannot be split {1 - fraction:.0%} / {fraction:.0%}: both "
            f"parts need at least one row (a smaller fraction, or more rows)"
        )
    counts = Counter(labels)
    stratify = labels
    if min(counts.values()) < 2 or n_out < len(counts) or n - n_out < len(counts):
        if log is not None:
            rare = ", ".join(f"{label!r}" for label, c in sorted(counts.items()) if c < 2)
            log(
                f"Warning: {what} split is not stratified"
                + (f" (classes with one example: {rare})" if rare else " (too few rows per class)")
            )
        stratify = None
    kept, held_out = train_test_split(
        np.arange(n), test_size=n_out, random_state=seed, stratify=stratify
    )
    return kept, held_out


def split_file(
    path: str | Path,
    output_dir: str | Path,
    test_size: float,
    seed: int,
    text_column: str = "text",
    label_column: str = "label",
    log=None,
) -> tuple[Path, Path, int, int]:
    """Write a stratified train/test split of a labelled CSV (all columns kept)."""
    name = str(path)
    df = parse_csv(read_text_file(path), name)
    check_column(df, text_column, name, "--text-column")
    check_column(df, label_column, name, "--label-column")
    kept, held_out = split_indices(df[label_column].tolist(), test_size, seed, name, log)
    train_df, test_df = df.iloc[kept], df.iloc[held_out]
    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        raise SentimentError(f"--output-dir {out}: is a file, expected a folder")
    out.mkdir(parents=True, exist_ok=True)
    train_path, test_path = out / "train.csv", out / "test.csv"
    train_df.to_csv(train_path, index=False)
    test_df.to_csv(test_path, index=False)
    return train_path, test_path, len(train_df), len(test_df)
