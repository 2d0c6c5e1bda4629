"""Files that are complete or not there at all."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from sentiment_cli.errors import SentimentError

WRITE_ERRORS = {
    errno.ENOSPC: "no space left on the device",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.ENOTDIR: "a parent of it is not a folder",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EISDIR: "is a directory",
    errno.ENOENT: "its folder does not exist",
    errno.EFBIG: "the file grew too large",
    errno.EDQUOT: "the disk quota is exceeded",
}


def write_error(label: str, path: Path, exc: OSError) -> SentimentError:
    """The one-line error for an OS error while writing ``path``."""
    reason = WRITE_ERRORS.get(exc.errno, exc.strerror or type(exc).__name__)
    if exc.errno == errno.ENOENT and Path(path).parent.is_dir():  # /proc, /sys: no new files
        reason = "its folder does not take new files"
    return SentimentError(f"{label} {path}: cannot write: {reason}")


@contextlib.contextmanager
def writing(path: Path, label: str = "") -> Iterator[None]:
    """Turn an OS error raised while writing ``path`` into a one-line error naming it."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in WRITE_ERRORS:
            raise
        raise write_error(label, path, exc).with_traceback(None) from None


@contextlib.contextmanager
def atomic_output(path: Path | None, binary: bool = False, label: str = "--output") -> Iterator[IO]:
    """Stdout, or a temporary file beside ``path`` renamed onto it only on success
    (opened for bytes with ``binary``). A path that exists and is not a regular file
    (/dev/null, a named pipe, a terminal) is written directly: renaming onto it would
    replace the device or pipe with a file. OS errors name ``label`` and the path."""
    if path is None:
        yield sys.stdout
        return
    path = Path(path)
    with writing(path, label):
        is_dir, special = path.is_dir(), path.exists() and not path.is_file()
    if is_dir:
        raise SentimentError(f"{label} {path}: is a directory")
    text = {} if binary else {"encoding": "utf-8", "newline": ""}
    if special:
        with writing(path, label), open(path, "wb" if binary else "w", **text) as handle:
            yield handle
        return
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    try:
        with writing(path, label), open(tmp, "wb" if binary else "w", **text) as handle:
            yield handle
        with writing(path, label):
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def together(folder: Path, names: Iterable[str], label: str) -> Iterator[Path]:
    """Files that belong together (a split's train.csv and test.csv, a report's files),
    replaced together: the caller writes them into the yielded temporary folder; only
    when all are complete are the old ones of ``names`` removed and the new ones moved
    in. A failure or an interruption before then leaves the old set as it was; no new
    file ever stands beside an old one."""
    folder = Path(folder)
    tmp = folder / f".together.tmp-{os.getpid()}"
    with writing(folder, label):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
    try:
        with writing(folder, label):
            yield tmp
            written = sorted(p.name for p in tmp.iterdir())
            for name in {*names, *written}:
                if (folder / name).is_file() or (folder / name).is_symlink():
                    (folder / name).unlink()
            for name in written:
                os.replace(tmp / name, folder / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
