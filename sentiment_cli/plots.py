"""The one matplotlib set-up of the tool: figures drawn off-screen, saved as PNG."""

from __future__ import annotations

from pathlib import Path


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed), imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: str | Path) -> None:
    """Write ``fig`` as a PNG and free it."""
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    pyplot().close(fig)


def grouped_bars(ax, names: list[str], series: dict, ylabel: str, title: str) -> None:
    """Bars of several series side by side per name, each labelled with its value;
    ``series``: {label: (values, errors or None)}; a series of only None is left out."""
    import numpy as np

    x = np.arange(len(names))
    shown = {k: v for k, v in series.items() if any(value is not None for value in v[0])}
    width = 0.8 / max(len(shown), 1)
    for k, (label, (values, errors)) in enumerate(shown.items()):
        offset = (k - (len(shown) - 1) / 2) * width
        heights = [0.0 if value is None else value for value in values]
        bars = ax.bar(x + offset, heights, width, yerr=errors, label=label)
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
    ax.set_xticks(x, names)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend()


def literal(text: str) -> str:
    """``text`` drawn as it is: matplotlib reads "$...$" as TeX (a label "$_$" would fail
    to parse), so each "$" is escaped."""
    return str(text).replace("$", r"\$")
