"""sentiment-cli: recurrent neural networks for tweet sentiment, from the command line."""

__version__ = "0.1.0"
