"""Opening input files: bytes decoded as UTF-8 a buffer at a time, errors naming the file."""

from __future__ import annotations

import codecs
import io
import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from sentiment_cli.errors import SentimentError
from sentiment_cli.limits import MAX_LINE_BYTES


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
        # UTF-32's marks first: little-endian UTF-32's begins with UTF-16's (FF FE 00 00).
        elif head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            codec, self.encoding_name = "utf-32", "UTF-32"
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
        self.since_break = 0  # bytes read since the last line break
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
        breaks = text.count("\n")
        self.line_breaks += breaks
        self.since_break = (
            len(text) - text.rfind("\n") - 1 if breaks else self.since_break + len(raw)
        )
        if self.since_break > MAX_LINE_BYTES:
            raise SentimentError(
                f"{self.name}: line {self.line_breaks + 1} is longer than {MAX_LINE_BYTES:,} "
                f"bytes (or the input never ends); one line holds one text"
            )
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
        """The remaining lines, each with its line end ("\n", "\r\n" or a lone "\r", which
        pandas also reads as one), split a buffer at a time: the csv module then reads
        them without a Python call per line."""
        return itertools.chain.from_iterable(self._line_batches())

    def _line_batches(self) -> Iterator[list[str]]:
        while True:
            if not self.eof:
                self._fill()
            text = self.pending[self.at :]
            # A "\r" ending the buffer waits: the next may begin with its "\n".
            last = max(text.rfind("\n"), text.rfind("\r", 0, len(text) - 1))
            cut = len(text) if self.eof else last + 1
            self.pending, self.at = text[cut:], 0
            if cut:
                yield LINES.findall(text, 0, cut)
            if self.eof and not self.pending:
                return


LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # a line and its end, or the last


def open_binary(path: str | Path, expected: str = "a CSV file"):
    """Open a file for reading bytes, refusing what is missing, a directory or unreadable."""
    name = str(path)
    p = Path(path)
    if not p.exists():
        if p.is_symlink():
            raise SentimentError(
                f"{name}: is a symbolic link that leads nowhere (a loop, or its target is gone)"
            )
        raise SentimentError(f"{name}: file does not exist")
    if p.is_dir():
        raise SentimentError(f"{name}: is a directory, expected {expected}")
    try:
        return open(p, "rb")  # noqa: SIM115 (the caller closes it)
    except PermissionError:
        raise SentimentError(f"{name}: permission denied, cannot read the file") from None
    except OSError as exc:
        raise SentimentError(f"{name}: cannot read the file: {exc.strerror}") from None
