"""sentiment-cli: recurrent networks that classify the sentiment of tweets.

``from sentiment_cli import load_model`` gives the Python API (``serving/api.py``); importing
the package imports nothing heavy.
"""

from sentiment_cli.version import __version__

__all__ = ["__version__", "load_model"]


def load_model(path=None, runtime: str = "numpy"):
    """Load a model folder: ``load_model(DIR).predict(texts)`` returns a DataFrame;
    ``load_model()`` loads the built-in model shipped in the package."""
    from sentiment_cli.serving.api import load_model as load

    return load(path, runtime)
