"""The one exception type the CLI turns into ``Error: ...`` and exit status 1."""


class SentimentError(Exception):
    """A problem with the user's input (file, column, config, model folder).

    The message is shown to the user as it is, so it names the file, row, column or
    key and says what was expected.
    """
