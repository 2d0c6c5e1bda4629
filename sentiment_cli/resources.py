"""Files shipped with the tool: the configs, the tune search space, the probes and the
built-in model.

In a checkout they are the repository's top-level ``configs/`` and ``data/probes/``. A
wheel carries those same files inside the package (``pyproject.toml`` maps the folders
to ``sentiment_cli/_configs`` and ``sentiment_cli/_probes``), so an installed tool reads
what the repository holds: one source, found from any working directory.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent


def _installed_or_checkout(installed: str, checkout: str) -> Path:
    inside = PACKAGE / installed
    return inside if inside.is_dir() else CHECKOUT / checkout


def configs_dir() -> Path:
    return _installed_or_checkout("_configs", "configs")


def probes_file() -> Path:
    return _installed_or_checkout("_probes", "data/probes") / "probes.csv"


def builtin_model_dir() -> Path:
    """The model folder shipped inside the package (``bench/build_builtin.py`` builds
    it): what every command and ``load_model()`` use when no model folder is given."""
    return PACKAGE / "builtin"
