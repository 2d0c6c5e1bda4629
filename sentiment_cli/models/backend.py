"""Loading TensorFlow and Keras without their start-up chatter.

TensorFlow 2.21 logs through absl before ``absl::InitializeLog()`` runs, so
``TF_CPP_MIN_LOG_LEVEL`` no longer silences lines such as "oneDNN custom operations are
on", "Could not find cuda drivers" or "failed call to cuInit". ``load()`` imports both
and touches the device once with the process' stderr (file descriptor 2) captured;
lines that are known start-up notices are dropped and everything else (real warnings
and errors) is written back to stderr.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from functools import lru_cache

CHATTER = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations are on|"
    r"cudart_stub|Could not find cuda drivers|failed call to cuInit|cuda_executor|"
    r"This TensorFlow binary is optimized|rebuild TensorFlow with the appropriate compiler|"
    r"Unable to register cu(DNN|FFT|BLAS) factory|computation_placer|TF-TRT Warning|"
    r"cpu_feature_guard|cuda_diagnostics|kernel driver does not appear to be running|"
    r"retrieving CUDA diagnostic information|hostname:|oneDNN supports DT_BOOL only"
)


@contextlib.contextmanager
def filtered_stderr():
    """Capture file descriptor 2 (C++ and Python writes alike); on exit, write back the
    lines that are not start-up chatter."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode("utf-8", "replace").splitlines():
                if line.strip() and not CHATTER.search(line):
                    print(line, file=sys.stderr)


@lru_cache(maxsize=1)
def load():
    """Import TensorFlow and Keras quietly (once per process); returns keras. Where they
    cannot be loaded (a memory limit such as ``ulimit -v`` below what TensorFlow maps, a
    broken install), SentimentError says so in one line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with filtered_stderr():
            import keras
            import numpy as np

            # The first masked recurrent step initialises the devices and oneDNN, which log.
            inputs = keras.Input(shape=(2,), dtype="int32")
            masked = keras.layers.Embedding(2, 1, mask_zero=True)(inputs)
            keras.Model(inputs, keras.layers.LSTM(1)(masked))(np.array([[1, 0]]))
    except (ImportError, OSError, MemoryError) as exc:
        from sentiment_cli.errors import SentimentError

        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:200]
        raise SentimentError(
            f"TensorFlow cannot be loaded ({detail}); training, tune and --runtime keras need "
            f"it. Under a memory limit (ulimit -v) it needs several GB of address space; "
            f"predict, evaluate and serve run without it"
        ) from None
    import logging

    logging.getLogger("tensorflow").addFilter(_not_retracing)
    return keras


def _not_retracing(record) -> bool:
    """Drops TensorFlow's "triggered tf.function retracing" hint. Every new model traces
    its own fit and predict functions once, as it must: an ensemble of 5 members
    (``train.members``) printed the hint four times. It is about this code, and a user
    can do nothing about it."""
    return "triggered tf.function retracing" not in record.getMessage()


def keras():
    """The keras module, loaded quietly."""
    return load()
