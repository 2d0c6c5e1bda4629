"""The largest inputs the tool accepts, the same for every command, the server and the
Python API, in one place (docs/configs.md lists them). Past a limit the input is
refused with a message naming it, before the work: an input that never ends
(``/dev/zero``) meets the line limit."""

MAX_LINE_BYTES = 1_000_000  # one line of an input file, and one CSV field
MAX_COLUMNS = 10_000  # columns in a CSV header
MAX_REQUEST_BYTES = 1_000_000  # one request body of the server
MAX_REQUEST_TEXTS = 1_000  # texts in one request of the server
