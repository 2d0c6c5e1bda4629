"""The Python API: load_model(DIR).predict(texts) without TensorFlow, picklable."""

import pickle

import numpy as np
import pandas as pd
import pytest

from sentiment_cli import load_model
from tests.conftest import fresh_python


def test_predict_returns_the_csv_columns(trained_model, runner):
    import io

    from sentiment_cli.cli import cli

    model = load_model(trained_model)
    texts = ["not bad at all", "I hate mondays", ""]
    frame = model.predict(texts)
    assert list(frame.columns) == ["text", "label", *(f"p_{label}" for label in model.labels)]
    assert frame["text"].tolist() == texts
    probs = frame[[f"p_{label}" for label in model.labels]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-6)
    result = runner.invoke(
        cli, ["predict", "--model-dir", str(trained_model), "-f", "csv", "--", *texts]
    )
    cli_frame = pd.read_csv(io.StringIO(result.stdout), keep_default_na=False)
    assert cli_frame["label"].tolist() == frame["label"].tolist()
    np.testing.assert_allclose(cli_frame.iloc[:, 2:].to_numpy(), probs, atol=1e-6)


def test_predict_batch_keeps_the_index_and_names_a_missing_column(trained_model):
    import pytest

    from sentiment_cli.errors import SentimentError

    model = load_model(trained_model)
    frame = pd.DataFrame({"tweet": ["so happy", "so sad"]}, index=[10, 20])
    result = model.predict_batch(frame, text_column="tweet")
    assert result.index.tolist() == [10, 20]
    assert result["text"].tolist() == ["so happy", "so sad"]
    with pytest.raises(SentimentError, match="no column 'text'; the columns are 'tweet'"):
        model.predict_batch(frame)
    # A list of texts is not a frame whose columns are the texts: it is pointed to predict.
    for not_a_frame in (["so happy", "so sad"], "so happy", {"text": ["so happy"]}):
        with pytest.raises(TypeError, match="takes a pandas DataFrame.*use predict"):
            model.predict_batch(not_a_frame)


def test_a_model_pickles_as_its_folder_and_reloads(trained_model):
    model = load_model(trained_model)
    payload = pickle.dumps(model)
    assert len(payload) < 1000  # the folder path, not the weights
    again = pickle.loads(payload)
    assert again.labels == model.labels
    pd.testing.assert_frame_equal(again.predict(["good"]), model.predict(["good"]))


def test_the_api_never_imports_tensorflow(trained_model):
    code = (
        "import sys\n"
        "from sentiment_cli import load_model\n"
        f"print(load_model({str(trained_model)!r}).predict(['not bad']).shape)\n"
        "print('LEAKED', [m for m in ('tensorflow', 'keras') if m in sys.modules])\n"
    )
    out = fresh_python(code)
    assert "LEAKED []" in out, out


def test_predict_many_streams_chunks_in_order(trained_model):
    model = load_model(trained_model)
    chunks = [["so happy", "so sad"], ["not bad at all"], ["the vote is on sunday"] * 3]
    results = list(model.predict_many(chunks))
    assert [r.texts for r in results] == chunks
    whole = model.predict([t for chunk in chunks for t in chunk])
    assert [label for r in results for label in r.predicted] == whole["label"].tolist()


def test_a_stream_leaves_the_garbage_collector_as_it_found_it(trained_model):
    """predict_many rests the collector while it streams, and only while it does."""
    import gc

    model = load_model(trained_model)
    before = gc.get_threshold()
    stream = model.predict_many([["so happy"], ["so sad"], ["meh"]])
    next(stream)
    assert gc.get_threshold() != before and gc.get_freeze_count() > 0
    list(stream)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    stream = model.predict_many([["so happy"], ["so sad"]])
    next(stream)
    stream.close()  # a caller that stops early
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
    first, second = (model.predict_many([["so happy"], ["so sad"]]) for _ in range(2))
    next(first)
    next(second)  # two streams at once: the last to end restores the collector
    list(first)
    assert gc.get_threshold() != before
    list(second)
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


@pytest.mark.parametrize("n_chunks", [1, 2, 7])
def test_chunks_scored_in_worker_processes_keep_their_order(trained_model, n_chunks):
    """predict_chunks tokenizes the chunks after the first in forked workers: the
    results come back in input order and equal scoring everything here."""
    from sentiment_cli.models.keras_runtime import open_model
    from sentiment_cli.runtime.predict import predict_chunks, score_texts
    from tests.conftest import TWEETS

    bundle = open_model(trained_model)
    texts = [f"{text} {i}" for i, (text, _) in enumerate(TWEETS * 4)]
    size = -(-len(texts) // n_chunks)
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    results = list(predict_chunks(bundle, chunks, workers=2))
    assert [len(r.texts) for r in results] == [len(c) for c in chunks]
    assert [t for r in results for t in r.texts] == texts
    together = score_texts(bundle, texts).probabilities
    got = np.concatenate([r.probabilities for r in results])
    np.testing.assert_allclose(got, together, atol=1e-6)
