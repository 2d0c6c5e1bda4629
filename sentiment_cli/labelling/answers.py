"""The answers of a labelling session, on disk before the next tweet shows.

``LABELLED.csv`` gets one row per answer: the tweet, its label, and for the audit its
row in the pool, the label the model suggested with its probability, and the time.
Each row is appended, flushed and synced before the answer is acknowledged, so a crash
or ``kill -9`` loses nothing that was acknowledged. Skipped tweets go to
``LABELLED.csv.skipped`` (one JSON line each), also synced. Undo takes the last answer
back: the file is rewritten without its last row, atomically (a temporary file renamed
onto it). Running the same command again reads both files and resumes: an answered
tweet (matched by its text) is never offered again, and skipped ones come back last.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sentiment_cli.errors import SentimentError

COLUMNS = ["text", "label", "pool_row", "suggested", "p_suggested", "answered_at"]


@dataclass
class Answer:
    text: str
    label: str
    pool_row: int
    suggested: str = ""
    p_suggested: str = ""
    answered_at: str = ""

    def row(self) -> list[str]:
        return [self.text, self.label, str(self.pool_row), self.suggested, self.p_suggested,
                self.answered_at]  # fmt: skip


@dataclass
class Answers:
    """The answers file and its skip list, as they are on disk."""

    path: Path
    labels: list[str]
    answers: list[Answer] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # texts, in the order skipped

    @property
    def skip_path(self) -> Path:
        return self.path.with_name(self.path.name + ".skipped")

    @classmethod
    def open(cls, path: str | Path, labels: list[str]) -> Answers:
        """The session's answers: those already in ``path`` (checked), or a new file
        with its header."""
        answers = cls(Path(path), list(labels))
        if answers.path.exists():
            answers.answers, cut = read_answers(answers.path, labels)
            if cut:  # a row being written when the process died: never acknowledged
                answers._write_all(answers.answers)
        else:
            answers.path.parent.mkdir(parents=True, exist_ok=True)
            answers._write_all([])
        if answers.skip_path.exists():
            answers.skipped = read_skipped(answers.skip_path)
        return answers

    def answered_texts(self) -> set[str]:
        return {a.text for a in self.answers}

    def add(self, answer: Answer) -> None:
        if answer.label not in self.labels:
            raise SentimentError(f"{answer.label!r} is not one of {', '.join(self.labels)}")
        answer.answered_at = answer.answered_at or time.strftime("%Y-%m-%dT%H:%M:%S")
        buffer = io.StringIO()
        csv.writer(buffer).writerow(answer.row())
        append_synced(self.path, buffer.getvalue())
        self.answers.append(answer)

    def skip(self, text: str) -> None:
        append_synced(self.skip_path, json.dumps({"text": text}, ensure_ascii=False) + "\n")
        self.skipped.append(text)

    def undo(self) -> Answer | None:
        """Take the last answer back; None when there is none."""
        if not self.answers:
            return None
        last = self.answers.pop()
        self._write_all(self.answers)
        return last

    def counts(self) -> dict[str, int]:
        return {label: sum(a.label == label for a in self.answers) for label in self.labels}

    def _write_all(self, answers: list[Answer]) -> None:
        temporary = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(a.row() for a in answers)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        sync_folder(self.path.parent)


def append_synced(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8", newline="") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def sync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def read_answers(path: Path, labels: list[str]) -> tuple[list[Answer], bool]:
    """(the answers in ``path``, whether an unfinished last row was left out), refused
    with the row where it is not this tool's answers file or names a label not asked
    for now."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SentimentError(f"{path}: cannot be read as the answers file ({exc})") from None
    cut = bool(text) and not text.endswith("\n")
    if cut:  # every row the session wrote ends with a line break
        text = text[: text.rfind("\n") + 1]
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0][:2] != COLUMNS[:2]:
        raise SentimentError(
            f"{path}: exists and is not a labelling file (its header should start with "
            f"'text,label'); choose another -o or move it away"
        )
    answers = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) < 2 or row[1] not in labels:
            got = row[1] if len(row) > 1 else "nothing"
            raise SentimentError(
                f"{path}, row {number}: label {got!r} is not one of --labels "
                f"{','.join(labels)}; give the labels this file was made with"
            )
        pool_row = int(row[2]) if len(row) > 2 and row[2].isdigit() else -1
        answers.append(Answer(row[0], row[1], pool_row, *row[3:6]))
    return answers, cut


def read_skipped(path: Path) -> list[str]:
    skipped = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            skipped.append(json.loads(line)["text"])
        except (ValueError, KeyError, TypeError):
            continue  # a line cut by a crash: the tweet is simply offered again
    return skipped
