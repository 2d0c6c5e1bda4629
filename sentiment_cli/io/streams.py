"""Texts to score, streamed a chunk at a time from a file, a folder, a glob pattern or stdin."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from sentiment_cli.errors import SentimentError
from sentiment_cli.io.files import TextStream, open_binary
from sentiment_cli.io.readers import check_column, check_names, parser_message
from sentiment_cli.limits import MAX_LINE_BYTES


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
    csv.field_size_limit(MAX_LINE_BYTES)  # the limit every reader applies
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
                raise SentimentError(parser_message(
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
