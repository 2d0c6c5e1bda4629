"""Tables in the tool's style (rich), and the rows of the metric tables that the
terminal and report.md share."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

# The labels' metrics, then the probabilities' (lower is better for these three).
OVERALL = ["accuracy", "macro_precision", "macro_recall", "macro_f1", "f1_pn"]
OVERALL += ["ece", "brier", "log_loss"]


# Bidirectional controls: they reorder what a terminal shows after them ("Trojan Source").
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str, keep: str = "\n") -> str:
    """``text`` safe to show on a terminal: control characters (escape sequences,
    bells, carriage returns), bidirectional controls and lone surrogates (a file name
    that was not UTF-8) become visible escapes such as ``\\x1b``; the characters in
    ``keep`` stay."""
    if text.isprintable():
        return text

    def shown(ch: str) -> str:
        code = ord(ch)
        bad = code < 0x20 or 0x7F <= code < 0xA0 or ch in BIDI or 0xD800 <= code < 0xE000
        if not bad or ch in keep:
            return ch
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return "".join(map(shown, text))


def console(file: IO[str] | None = None):
    """A rich Console that shows strings as they are: no markup (a tweet's "[/b]" is
    text), no emoji codes, and control characters escaped (``printable``)."""
    from rich.console import Console

    class PlainConsole(Console):
        def print(self, *objects, **options):
            shown = (printable(o) if isinstance(o, str) else o for o in objects)
            super().print(*shown, **options)

    # Created per call: click's test runner swaps sys.stdout. Written to a file or a
    # pipe, tables get 120 columns instead of rich's default 80, so they do not wrap.
    file = file or sys.stdout
    width = None if file.isatty() else 120
    return PlainConsole(
        file=file, soft_wrap=False, highlight=False, width=width, markup=False, emoji=False
    )


def table(columns: list[str], title: str | None = None, left: int = 1, **options):
    """A rich Table in the tool's style: the first ``left`` columns left-aligned (names),
    the rest right-aligned (numbers). Its strings (title, headers, cells) are shown as
    they are (``printable``)."""
    from rich.table import Table

    class PlainTable(Table):
        def add_row(self, *cells, **row_options):
            shown = (printable(c, keep="") if isinstance(c, str) else c for c in cells)
            super().add_row(*shown, **row_options)

    style = {"show_edge": False, "header_style": "bold", "title_justify": "left", **options}
    result = PlainTable(title=None if title is None else printable(title), **style)
    for i, name in enumerate(columns):
        result.add_column(printable(name), justify="left" if i < left else "right")
    return result


def bold(text: str):
    """``text`` in bold, as it is (no markup read in it)."""
    from rich.text import Text

    return Text(printable(text), style="bold")


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def diff(a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return "–"
    return f"{a - b:+.4f}"


def overall_rows(metrics: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the overall table: RNN, and bag-of-words with the difference
    when the model folder has a baseline. Shared by the terminal and report.md."""
    base = metrics.get("baseline")
    header = ["metric", "RNN"] + (["bag-of-words", "RNN − BoW"] if base else [])
    rows = []
    for key in OVERALL:
        row = [key, fmt(metrics.get(key))]
        if base:
            row += [fmt(base.get(key)), diff(metrics.get(key), base.get(key))]
        rows.append(row)
    return header, rows


def abstention_line(metrics: dict[str, Any]) -> str | None:
    """What ``--min-confidence`` gave, in one sentence; None without it."""
    a = metrics.get("abstention")
    if not a:
        return None
    answered = "–" if a["accuracy_answered"] is None else f"{a['accuracy_answered']:.4f}"
    return (
        f"At --min-confidence {a['min_confidence']:g}: {a['answered']:,} of "
        f"{a['answered'] + a['abstained']:,} rows answered (coverage {a['coverage']:.1%}), "
        f"accuracy {answered} (all rows {a['accuracy_all']:.4f}); the rest are 'uncertain'"
    )


PER_CLASS_HEADER = ["label", "precision", "recall", "f1", "support"]


def per_class_rows(metrics: dict[str, Any]) -> list[list[str]]:
    return [
        [label, fmt(s["precision"]), fmt(s["recall"]), fmt(s["f1"]), str(s["support"])]
        for label, s in metrics["per_class"].items()
    ]


def short_names(paths: list[str]) -> list[str]:
    """Folder names, numbered when two models share one."""
    names = [Path(p).name or str(p) for p in paths]
    if len(set(names)) < len(names):
        names = [f"{i + 1}-{name}" for i, name in enumerate(names)]
    return names


def short(text: str, width: int = 60) -> str:
    """``text`` on one line, cut to ``width`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
