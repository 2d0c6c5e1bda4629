"""An experiment's result kept beside its picture: NAME.json and NAME.png."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sentiment_cli.io.atomic import atomic_output, writing


def save_result(result: dict, folder: Path, name: str, plot: Callable[[dict, Path], None]):
    """Write ``result`` as ``folder/NAME.json`` and its plot as ``folder/NAME.png``;
    returns the JSON file's path."""
    folder = Path(folder)
    with writing(folder, "--report-dir"):
        folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.json"
    with atomic_output(target, label="--report-dir") as handle:
        handle.write(json.dumps(result, indent=2) + "\n")
    with writing(folder / f"{name}.png", "--report-dir"):
        plot(result, folder / f"{name}.png")
    return target
