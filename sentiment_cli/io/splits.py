"""Stratified splits of a labelled CSV (scikit-learn)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sentiment_cli.errors import SentimentError
from sentiment_cli.io.atomic import together
from sentiment_cli.io.readers import check_column, parse_csv, read_text_file


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
    names = {"train.csv": train_df, "test.csv": test_df}
    # Replaced together: a new train.csv beside an old test.csv would share rows with it.
    with together(out, names, "--output-dir") as tmp:
        for name, frame in names.items():
            with open(tmp / name, "w", encoding="utf-8", newline="") as handle:
                frame.to_csv(handle, index=False)
    return out / "train.csv", out / "test.csv", len(train_df), len(test_df)
