"""Stratified splits of a labelled CSV (scikit-learn), with near-copies of a tweet kept
on one side.

A retweet, a tweet posted again with another link, or the same text with other
mentions is the same tweet to a reader. Split at random, such copies land on both sides
of a split (one tweet in six of some topics' labelled files has a copy), and the
held-out part then scores tweets the model has already read: validation figures come out
optimistic, and what is chosen on them (the epoch, the blend's weight, the temperature)
is chosen for tweets a user will not bring. So rows whose ``copy_key`` is the same are
split as one: the groups are split stratified by label, each going to one side whole.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from sentiment_cli.errors import SentimentError
from sentiment_cli.io.atomic import together
from sentiment_cli.io.copies import copy_groups
from sentiment_cli.io.readers import check_column, parse_csv, read_text_file


def split_indices(
    labels: list[str],
    fraction: float,
    seed: int,
    name: str,
    log=None,
    what: str = "test",
    texts: list[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(kept, held-out) row indices, about ``fraction`` of the rows held out, stratified
    by label (scikit-learn). Given ``texts``, near-copies (``copy_groups``) go to one
    side together, each group stratified by its most common label; with no copies the
    split is the one without ``texts``. Falls back to a plain random split, with a
    warning, when a class has too few rows (or groups) to appear on both sides."""
    if not 0 < fraction < 1:  # also refuses NaN
        raise SentimentError(f"{name}: the held-out fraction must be in (0, 1), got {fraction}")
    n = len(labels)
    if n < 2 or int(np.ceil(n * fraction)) >= n:
        raise SentimentError(
            f"{name}: {n} row(s) cannot be split {1 - fraction:.0%} / {fraction:.0%}: both "
            f"parts need at least one row (a smaller fraction, or more rows)"
        )
    groups = copy_groups(texts) if texts is not None else np.arange(n)
    count = int(groups.max()) + 1
    if count == n or int(np.ceil(count * fraction)) >= count:  # no copies, or few tweets
        return _split_groups(list(labels), fraction, seed, log, what)  # each row its group
    members: list[list[int]] = [[] for _ in range(count)]
    for row, group in enumerate(groups):
        members[group].append(row)
    group_labels = [Counter(labels[r] for r in rows).most_common(1)[0][0] for rows in members]
    kept, held_out = _split_groups(group_labels, fraction, seed, log, what)
    if log is not None:
        log(f"{what.capitalize()} split: {n - count} near-copies of other rows kept on their side")
    return (
        np.array([r for g in kept for r in members[g]], dtype=np.int64),
        np.array([r for g in held_out for r in members[g]], dtype=np.int64),
    )


def _split_groups(labels: list[str], fraction: float, seed: int, log, what: str):
    """``train_test_split`` of the groups, stratified by their labels where it can be."""
    from sklearn.model_selection import train_test_split

    n = len(labels)
    n_out = int(np.ceil(n * fraction))
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
    return train_test_split(np.arange(n), test_size=n_out, random_state=seed, stratify=stratify)


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
    kept, held_out = split_indices(
        df[label_column].tolist(), test_size, seed, name, log, texts=df[text_column].tolist()
    )
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
