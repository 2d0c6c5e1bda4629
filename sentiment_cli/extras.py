"""Optional parts of the tool (pip extras): one check, one message."""

from __future__ import annotations

import importlib.util

from sentiment_cli.errors import SentimentError


def require(purpose: str, extra: str, *modules: str) -> None:
    """Refuse ``purpose`` when a module of the ``extra`` is not installed, naming the
    missing modules and the install command; nothing is imported here."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise SentimentError(
            f"{purpose} needs {', '.join(missing)}: pip install 'sentiment-cli[{extra}]'"
        )
