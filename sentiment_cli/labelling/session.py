"""A live labelling session: what to show next, the answers, the retrains.

The page (``page.py``) calls ``next``, ``answer``, ``skip``, ``undo`` and ``status``;
each returns at once. Every ``every`` answers a retrain starts as a subprocess
(``retrain.py``: the default config on all the answers, then a cross-validated
estimate); a thread waits for it, scores the pool with the new model and swaps it in,
so the tweets chosen after that come from the new model. The next batch is chosen
in a thread while the current one is being answered.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from sentiment_cli.errors import SentimentError
from sentiment_cli.labelling.answers import Answer, Answers
from sentiment_cli.labelling.choose import BATCH, Chooser
from sentiment_cli.labelling.pool import Pool, first_model, write_rows

Log = Callable[[str], None]
REFILL_AT = 3  # tweets left in the queue when the next batch is chosen, in a thread
STOPPED = 0.01  # macro-F1 gained over two retrains below which more labels stopped helping


class Session:
    def __init__(
        self,
        pool: Pool,
        answers: Answers,
        seed: int,
        every: int,
        models: Path,
        log: Log,
        folds: int = 3,
        at_random: bool = False,
    ):
        self.pool, self.answers, self.seed, self.every = pool, answers, seed, every
        self.models, self.log, self.folds = models, log, folds
        self.lock = threading.RLock()
        self.choosing = threading.Lock()  # the chooser: a refill thread or next()
        self.refilling = False  # a refill thread is choosing; set and cleared under lock
        self.refilled = threading.Condition(self.lock)
        self.chooser = Chooser(pool.signatures(), seed, at_random)
        self.by_text = {text: row for row, text in enumerate(pool.texts)}
        answered = answers.answered_texts()
        self.chooser.take(self.by_text[t] for t in answered if t in self.by_text)
        self.skipped = [
            self.by_text[t] for t in dict.fromkeys(answers.skipped)
            if t in self.by_text and t not in answered
        ]  # fmt: skip
        self.chooser.take(self.skipped)
        self.rounds: list[dict] = self._rounds_on_disk()
        self.model, self.model_name = self._latest_model(log)
        self.probs, self.features = (None, None) if self.model is None else pool.scored(self.model)
        self.queue: list[int] = []
        self.current: int | None = None
        self.history: list[tuple[str, int]] = []  # ("answer" | "skip", row), for undo
        self.process: subprocess.Popen | None = None
        self.retrained_at = self.rounds[-1]["answers"] if self.rounds else 0

    # What the page calls -----------------------------------------------------------

    def next(self) -> dict | None:
        """The tweet to show (the same one until it is answered or skipped); None when
        every tweet of the pool has been answered."""
        with self.lock:
            while self.current is None:
                if self.queue:
                    self.current = self.queue.pop(0)
                    self._refill_soon()
                elif self.refilling:  # the batch being chosen holds the tweets left
                    self.refilled.wait(timeout=60)
                else:  # at the start, or answers faster than the refills
                    with self.choosing:
                        self.queue = self.chooser.batch(BATCH, self.probs, self.features)
                    if not self.queue and self.skipped:  # skipped tweets come back last
                        self.queue, self.skipped = self.skipped, []
                    if not self.queue:
                        return None
            return self.shown(self.current)

    def answer(self, row: int, label: str) -> dict | None:
        with self.lock:
            self._check_current(row)
            guess = self.guess(row)
            self.answers.add(
                Answer(self.pool.texts[row], label, row, guess.get("label", ""),
                       f"{guess['p']:.3f}" if guess else "")
            )  # fmt: skip
            self.history.append(("answer", row))
            self.current = None
            self._maybe_retrain()
            return self.next()

    def skip(self, row: int) -> dict | None:
        with self.lock:
            self._check_current(row)
            self.answers.skip(self.pool.texts[row])
            self.skipped.append(row)
            self.history.append(("skip", row))
            self.current = None
            return self.next()

    def undo(self) -> dict | None:
        """Take back the last answer or skip, and show that tweet again."""
        with self.lock:
            if self.history:
                kind, row = self.history.pop()
            elif self.answers.answers:  # a resumed session: the file's last answer
                kind, row = "answer", self.by_text.get(self.answers.answers[-1].text, -1)
            else:
                return self.next()
            if kind == "answer":
                self.answers.undo()
            elif row in self.skipped:
                self.skipped.remove(row)
            if self.current is not None:
                self.queue.insert(0, self.current)
            if row >= 0:
                self.current = row
            return self.next()

    def status(self) -> dict:
        with self.lock:
            return {
                "answered": len(self.answers.answers),
                "skipped": len(self.skipped),
                "pool": len(self.pool),
                "counts": self.answers.counts(),
                "model": self.model_name,
                "retraining": self.process is not None,
                "next_retrain_at": self.retrained_at + self.every,
                "rounds": self.rounds,
                "stopped_helping": stopped_helping(self.rounds),
                "file": str(self.answers.path),
            }

    # Helpers -------------------------------------------------------------------------

    def guess(self, row: int) -> dict:
        """The model's answer among the labels asked for (the built-in model may know
        more: its probabilities are then shared out over those asked for)."""
        if self.probs is None or self.model is None:
            return {}
        allowed = [i for i, label in enumerate(self.model.labels) if label in self.answers.labels]
        p = self.probs[row][allowed]
        p = p / max(float(p.sum()), 1e-12)
        names = [self.model.labels[i] for i in allowed]
        shares = dict(zip(names, map(float, p), strict=True))
        best = int(p.argmax())
        return {"label": names[best], "p": float(p[best]), "probabilities": shares}

    def shown(self, row: int) -> dict:
        return {"row": row, "text": self.pool.texts[row], "guess": self.guess(row)}

    def _check_current(self, row: int) -> None:
        if row != self.current:
            raise ValueError(f"tweet {row} is not the one shown (that is {self.current})")

    def _maybe_retrain(self) -> None:
        if self.process is not None or len(self.answers.answers) - self.retrained_at < self.every:
            return
        n = len(self.answers.answers)
        self.retrained_at = n
        out = self.models / f"round-{n}"
        rows = [a.pool_row for a in self.answers.answers]
        data = write_rows(self.models / f"answers-{n}.csv", self.pool, rows,
                          [a.label for a in self.answers.answers],
                          [a.text for a in self.answers.answers])  # fmt: skip
        command = [sys.executable, "-m", "sentiment_cli.labelling.retrain", str(data), str(out),
                   "--seed", str(self.seed), "--folds", str(self.folds)]  # fmt: skip
        log_file = open(self.models / f"round-{n}.log", "w", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
        self.log(f"Retraining on {n} answers ({out})")
        threading.Thread(target=self._swap_in, args=(self.process, out, n, log_file),
                         daemon=True).start()  # fmt: skip

    def _refill_soon(self) -> None:
        """Choose the next batch in a thread while the queue still holds tweets, so that
        no answer waits for the choice (a batch over a large pool takes a few tenths
        of a second)."""
        if len(self.queue) > REFILL_AT or self.refilling:
            return
        self.refilling = True
        probs, features = self.probs, self.features

        def refill() -> None:
            batch: list[int] = []
            try:
                with self.choosing:
                    batch = self.chooser.batch(BATCH, probs, features)
            finally:
                with self.lock:
                    self.queue.extend(batch)
                    self.refilling = False
                    self.refilled.notify_all()

        threading.Thread(target=refill, daemon=True).start()

    def _swap_in(self, process, out: Path, n: int, log_file) -> None:
        """Wait for the retrain; score the pool with its model; make it the chooser's."""
        from sentiment_cli.runtime.model_folder import read_model_dir

        code = process.wait()
        log_file.close()
        model = probs = features = None
        if code == 0:
            model = read_model_dir(out)
            probs, features = self.pool.scored(model)  # outside the lock: the page goes on
        with self.lock:
            self.process = None
            if model is None:
                self.log(f"Retrain on {n} answers gave no model (see {out}.log)")
                return
            self.model, self.probs, self.features = model, probs, features
            self.model_name = out.name  # the next refill chooses with it
            self.rounds.append(round_entry(out, n))
            self.log(f"Model of round {out.name} in use")

    def _latest_model(self, log: Log):
        """(model, name): a resumed session's last retrain, else ``first_model``."""
        from sentiment_cli.runtime.model_folder import read_model_dir

        for entry in reversed(self.rounds):
            try:
                model = read_model_dir(entry["model_dir"])
            except SentimentError as exc:
                log(f"Not using {entry['model_dir']}: {exc}")
                continue
            log(f"The next tweets are chosen by {entry['model_dir']}")
            return model, Path(entry["model_dir"]).name
        model = first_model(self.answers.labels, log)
        return model, ("built-in" if model is not None else None)

    def _rounds_on_disk(self) -> list[dict]:
        from sentiment_cli.runtime.model_folder import is_model_folder

        found = []
        for folder in sorted(self.models.glob("round-*"), key=lambda p: p.name):
            if folder.is_dir() and is_model_folder(folder) and folder.name[6:].isdigit():
                found.append(round_entry(folder, int(folder.name[6:])))
        return sorted(found, key=lambda r: r["answers"])


def round_entry(out: Path, n: int) -> dict:
    cv_path = out.with_name(out.name + ".cv.json")
    cv = None
    if cv_path.exists():
        try:
            cv = json.loads(cv_path.read_text(encoding="utf-8"))
        except ValueError:
            cv = None
    return {"answers": n, "model_dir": str(out), "cross_validated": cv}


def stopped_helping(rounds: list[dict]) -> dict | None:
    """Where the cross-validated macro-F1 gained less than ``STOPPED`` over each of the
    last two retrains; None while it still rises (or is not known yet)."""
    scored = [r for r in rounds if r.get("cross_validated")]
    if len(scored) < 3:
        return None
    f1 = [r["cross_validated"]["macro_f1"] for r in scored[-3:]]
    if f1[1] - f1[0] < STOPPED and f1[2] - f1[1] < STOPPED:
        return {"answers": scored[-1]["answers"], "macro_f1": f1[-1],
                "gain_over_two_retrains": round(f1[2] - f1[0], 4)}  # fmt: skip
    return None
