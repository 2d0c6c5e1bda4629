"""Files that are complete or not there at all."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from sentiment_cli.errors import SentimentError


@contextlib.contextmanager
def atomic_output(path: Path | None, binary: bool = False) -> Iterator[IO]:
    """Stdout, or a temporary file beside ``path`` renamed onto it only on success
    (opened for bytes with ``binary``). A path that exists and is not a regular file
    (/dev/null, a named pipe, a terminal) is written directly: renaming onto it would
    replace the device or pipe with a file."""
    if path is None:
        yield sys.stdout
        return
    path = Path(path)
    if path.is_dir():
        raise SentimentError(f"--output {path}: is a directory")
    text = {} if binary else {"encoding": "utf-8", "newline": ""}
    if path.exists() and not path.is_file():
        with open(path, "wb" if binary else "w", **text) as handle:
            yield handle
        return
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb" if binary else "w", **text) as handle:
            yield handle
        os.replace(tmp, path)
    except FileNotFoundError:
        tmp.unlink(missing_ok=True)
        raise SentimentError(f"--output {path}: folder {path.parent} does not exist") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
