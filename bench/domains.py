"""The train / validation / test CSVs of the shared domains, as `make bench` splits them
(used by bench/run.py, few_labels.py, build_encoder.py and quality.py)."""

from __future__ import annotations

from pathlib import Path


def limited(path: Path, limit: int | None, work: Path) -> Path:
    if not limit:
        return path
    import pandas as pd

    target = work / f"{path.parent.name}-{path.stem}-{limit}.csv"
    pd.read_csv(path, dtype=str, keep_default_na=False).head(limit).to_csv(target, index=False)
    return target


def held_out(path: Path, split_dir: Path) -> None:
    """TSE's train.csv and val.csv in ``split_dir``: 10% of ``path`` held out, seed 0,
    stratified row by row, as the shipped encoder's build split it (it read the 90%, see
    build_encoder.py). Not ``split_file``, which now keeps copies of a tweet on one side:
    its 10% would be other rows, most of them read by the encoder."""
    from sentiment_cli.io.readers import parse_csv, read_text_file
    from sentiment_cli.io.splits import split_indices

    frame = parse_csv(read_text_file(path), str(path))
    kept, out = split_indices(frame["label"].tolist(), 0.1, 0, str(path))
    split_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train.csv", kept), ("val.csv", out)):
        frame.iloc[rows].to_csv(split_dir / name, index=False)


def domain_files(name: str, args, work: Path) -> dict[str, Path]:
    """train / val / test CSVs of a domain (TSE's val: 10% of train, seed 0)."""
    if name == "semeval":
        files = {n: args.data_dir / f"{n}.csv" for n in ("train", "val", "test")}
    else:
        source = args.tse_dir
        files = {"train": source / "train.csv", "test": source / "test.csv"}
        missing = [str(p) for p in files.values() if not p.exists()]
        if missing:
            raise SystemExit(f"bench: {', '.join(missing)} not found; pass --tse-dir")
        split_dir = work / "tse-split"
        if not (split_dir / "val.csv").exists():
            held_out(limited(files["train"], args.limit, work), split_dir)
        return {
            "train": split_dir / "train.csv",
            "val": split_dir / "val.csv",
            "test": limited(files["test"], args.limit, work),
        }
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise SystemExit(
            f"bench: the SemEval-2017 data is not here ({', '.join(missing)}); "
            f"pass --data-dir or set SEMEVAL_DIR"
        )
    return {n: limited(p, args.limit, work) for n, p in files.items()}
