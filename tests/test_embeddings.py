import numpy as np
import pytest

from sentiment_cli.config import TextConfig
from sentiment_cli.errors import SentimentError
from sentiment_cli.models.embeddings import load_embeddings
from sentiment_cli.text.vocabulary import Vocabulary


@pytest.fixture
def vocab():
    return Vocabulary.build([["good", "bad", ":- )", "rare"]], TextConfig(min_count=1))


def test_glove_and_word2vec_text_formats(tmp_path, vocab):
    glove = tmp_path / "glove.txt"
    glove.write_text("good 1 2 3\nbad -1 -2 -3\n:- ) 0.5 0.5 0.5\nunused 9 9 9\n")
    w2v = tmp_path / "w2v.txt"
    w2v.write_text("3 3\n" + glove.read_text())
    for path in (glove, w2v):
        pretrained = load_embeddings(path, vocab, 3, seed=0)
        assert pretrained.found == 3 and pretrained.total == 4
        np.testing.assert_array_equal(pretrained.matrix[vocab.index["bad"]], [-1, -2, -3])
        np.testing.assert_array_equal(pretrained.matrix[vocab.index[":- )"]], [0.5] * 3)
        assert not pretrained.matrix[0].any()  # padding stays zero
        assert np.abs(pretrained.matrix[vocab.index["rare"]]).max() < 0.5


def test_wrong_dimension_is_refused(tmp_path, vocab):
    path = tmp_path / "v.txt"
    path.write_text("good 1 2\n")
    with pytest.raises(
        SentimentError, match="holds 2-dimensional vectors, but model.embedding_dim is 3"
    ):
        load_embeddings(path, vocab, 3, seed=0)


def test_training_reports_words_found(runner, tmp_path):
    from sentiment_cli.cli import cli
    from tests.conftest import TWEETS, train_args, write_csv

    data = write_csv(tmp_path / "d.csv", TWEETS * 2)
    vectors = tmp_path / "v.txt"
    vectors.write_text("".join(f"{w} " + " ".join(["0.1"] * 8) + "\n" for w in ("love", "hate")))
    args = train_args(
        data,
        tmp_path / "m",
        "--set",
        f"model.embeddings_file={vectors}",
        "--set",
        "model.embeddings_trainable=false",
    )
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "Pretrained vectors: 2 of " in result.output
    from sentiment_cli.models.keras_runtime import open_model

    bundle = open_model(tmp_path / "m", runtime="keras")
    table = bundle.keras.get_layer("embedding").get_weights()[0]
    np.testing.assert_allclose(table[bundle.vocab.index["love"]], 0.1)  # frozen: unchanged
