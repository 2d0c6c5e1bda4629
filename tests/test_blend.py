"""train.blend: a bag of words mixed into the model's answers (by default one that also
reads the character grams of each word, kept beside the baseline), computed without
scikit-learn at prediction time."""

import json
import shutil

import numpy as np
import pytest

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, train_args, write_csv


def _rehash(folder):
    from sentiment_cli.runtime.integrity import describe

    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = describe(folder, [n for n in manifest["files"] if (folder / n).exists()])
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _set_weight(folder, weight, network_decides=("negation", "contrast"), temperature=1.0):
    summary = json.loads((folder / "summary.json").read_text())
    summary["blend"]["baseline_weight"] = weight
    summary["blend"]["network_decides"] = list(network_decides)
    summary["blend"]["temperature"] = temperature
    (folder / "summary.json").write_text(json.dumps(summary))
    _rehash(folder)


@pytest.fixture(scope="module")
def blended(tmp_path_factory):
    from click.testing import CliRunner

    base = tmp_path_factory.mktemp("blend")
    data = write_csv(base / "tweets.csv", TWEETS * 3)
    out = base / "model"
    args = train_args(data, out, "--set", "train.blend=auto")
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def half(blended, tmp_path):
    """A copy of the blended folder whose baseline weighs 0.5, whatever validation chose."""
    copy = tmp_path / "model"
    shutil.copytree(blended, copy)
    _set_weight(copy, 0.5)
    return copy


@pytest.mark.parametrize("chars", [None, (2, 5)])
@pytest.mark.parametrize("labels", [("negative", "neutral", "positive"), ("negative", "positive")])
def test_the_numpy_baseline_computes_what_scikit_learn_does(tmp_path, labels, chars):
    from sentiment_cli.config import TextConfig
    from sentiment_cli.models.baseline import Baseline
    from sentiment_cli.runtime.bow import BagOfWords
    from sentiment_cli.text.tokenizer import tokenize_all

    rows = [(t, label) for t, label in TWEETS * 2 if label in labels]
    tokens = tokenize_all([t for t, _ in rows], TextConfig())
    fitted = Baseline.fit(tokens, [label for _, label in rows], "balanced", seed=0, chars=chars)
    fitted.save(tmp_path, "bag")
    unseen = ["never heard of it", "", "love love love the great day", "loooove it, greatest"]
    queries = tokens + tokenize_all(unseen, TextConfig())
    bag = BagOfWords.load(tmp_path, "bag")
    assert bool(bag.char_vocabulary) == bool(chars)
    for _ in range(2):  # the second time from the words' cached character grams
        ours = bag.predict_proba(queries)
        assert ours.shape == (len(queries), len(labels))
        np.testing.assert_allclose(ours, fitted.predict_proba(queries), atol=1e-9)


def test_the_blended_bag_reads_pieces_of_words_the_baseline_never_saw_whole(tmp_path):
    """An unseen spelling ("loooove", "terribleee") shares character grams with the
    labelled words, so the bag leans the right way where word grams know nothing."""
    from sentiment_cli.config import TextConfig
    from sentiment_cli.models.baseline import Baseline
    from sentiment_cli.text.tokenizer import tokenize_all

    rows = [("i love it", "positive"), ("love this", "positive"), ("so lovely", "positive"),
            ("terrible service", "negative"), ("just terrible", "negative"),
            ("terrible day", "negative")] * 3  # fmt: skip
    tokens = tokenize_all([t for t, _ in rows], TextConfig())
    labels = [label for _, label in rows]
    words = Baseline.fit(tokens, labels, "balanced", seed=0)
    both = Baseline.fit(tokens, labels, "balanced", seed=0, chars=(2, 5))
    unseen = tokenize_all(["loooove", "terribleee"], TextConfig())
    positive = both.labels.index("positive")
    blind = words.predict_proba(unseen)  # no word gram known: both answered alike
    np.testing.assert_allclose(blind[0], blind[1], atol=1e-9)
    assert list(both.predict_proba(unseen)[:, positive] > 0.5) == [True, False]


def test_blend_auto_records_the_weight_validation_chose_among_those_keeping_the_probes(blended):
    from sentiment_cli.training.blend import GUARDED, PRIOR_WEIGHT, TOLERANCE, WEIGHTS

    blend = json.loads((blended / "summary.json").read_text())["blend"]
    brier = {float(w): score for w, score in blend["validation_brier"].items()}
    f1 = {float(w): score for w, score in blend["validation_macro_f1"].items()}
    assert sorted(brier) == sorted(f1) == list(WEIGHTS)
    probes = blend["probes"]
    allowed = [w for w in WEIGHTS if w not in probes["refused"]]
    lowest = min(brier[w] for w in allowed)
    on_the_split = min(w for w in allowed if brier[w] <= lowest + 1e-9)  # smaller on a tie
    assert blend["lowest_brier_weight"] == on_the_split
    chosen = blend["baseline_weight"]
    assert chosen in allowed  # the split's own choice, or one nearer the prior
    assert abs(chosen - PRIOR_WEIGHT) <= abs(on_the_split - PRIOR_WEIGHT)
    assert blend["chosen_by"] == "validation Brier score, one-standard-error rule toward 0.3"
    assert blend["validation"]["brier"] == pytest.approx(brier[chosen], abs=1e-6)
    assert blend["validation"]["macro_f1"] == pytest.approx(f1[chosen], abs=1e-6)
    assert blend["network_decides"] == ["negation", "contrast"]
    assert 0.05 <= blend["temperature"] <= 20
    assert blend["bag"] == "blend_bag"  # the default blend_features, words+chars
    assert "char_vocabulary" in json.loads((blended / "blend_bag.json").read_text())
    assert "char_vocabulary" not in json.loads((blended / "baseline.json").read_text())
    for category in GUARDED:  # the guard held for the weight chosen
        assert probes["blended"][category] >= probes["network"][category] - TOLERANCE


def _errors(curve, n, noise, seed=0):
    """Per-tweet Brier scores of ``n`` tweets whose mean under each weight follows
    ``curve``, each tweet's own share of it drawn with sd ``noise``."""
    rng = np.random.default_rng(seed)
    tweets = rng.normal(0.0, noise, (n, 1)) * (1 + np.arange(len(curve)))[None, :] / len(curve)
    tweets -= tweets.mean(axis=0)
    return 0.5 + tweets + np.asarray(curve)[None, :]


def test_a_large_validation_split_keeps_its_own_choice_of_weight():
    from sentiment_cli.training.blend import CHOOSES_ALONE, one_se_choice

    weights = [round(0.1 * i, 1) for i in range(10)]
    curve = [0.3 * (w - 0.7) ** 2 for w in weights]  # lowest at 0.7
    assert one_se_choice(weights, _errors(curve, 3000, 0.2)) == (0.7, 0.7)
    curve = [0.3 * w**2 for w in weights]  # the bag never helps: the network alone
    assert one_se_choice(weights, _errors(curve, 3000, 0.2)) == (0.0, 0.0)
    slight = [0.3 * (w - 0.9) ** 2 * 0.05 for w in weights]  # lower toward 0.9, within noise
    assert one_se_choice(weights, _errors(slight, CHOOSES_ALONE, 0.5)) == (0.9, 0.9)


def test_a_few_dozen_tweets_move_the_weight_only_as_far_as_they_show():
    from sentiment_cli.training.blend import PRIOR_WEIGHT, one_se_choice

    weights = [round(0.1 * i, 1) for i in range(10)]
    slight = [0.3 * (w - 0.9) ** 2 * 0.05 for w in weights]  # a little lower toward 0.9
    errors = _errors(slight, 30, 0.5)
    assert one_se_choice(weights, errors) == (PRIOR_WEIGHT, 0.9)  # within the noise
    strong = [0.3 * (w - 0.9) ** 2 for w in weights]  # the same, far beyond the noise
    assert one_se_choice(weights, _errors(strong, 30, 0.05))[0] >= 0.8
    assert one_se_choice(weights[:3], np.full((30, 3), 0.3)) == (0.2, 0.0)  # the nearest


def test_a_blended_folder_answers_with_the_mix_everywhere(runner, half):
    from sentiment_cli.runtime.bow import BagOfWords
    from sentiment_cli.runtime.model_folder import read_model_dir
    from sentiment_cli.runtime.predict import predict_chunks
    from sentiment_cli.text.tokenizer import tokenize_all

    texts = ["worst day ever", "the bus leaves at 5", "not bad at all", "good, but so slow"]
    bundle = read_model_dir(half)
    assert bundle.blend.weight == 0.5 and bundle.blend.bag == "blend_bag"
    tokens = tokenize_all(texts, bundle.config.text)
    network = bundle.network.predict_ids(bundle.vocab.encode_tokens(tokens, bundle.config.text).ids)
    words = BagOfWords.load(half, "blend_bag").aligned(tokens, bundle.labels)
    # a negation or a contrast is the network's alone to read
    expected = np.vstack([0.5 * network[:2] + 0.5 * words[:2], network[2:]])

    result = runner.invoke(cli, ["predict", "--model-dir", str(half), "-f", "json", *texts])
    assert result.exit_code == 0, result.output
    got = [
        [r["probabilities"][label] for label in bundle.labels] for r in json.loads(result.output)
    ]
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # forked workers compute the baseline's share as this process does
    chunks = list(predict_chunks(bundle, [texts[:1], texts[1:3], texts[3:]], workers=2))
    np.testing.assert_allclose(np.vstack([c.probabilities for c in chunks]), expected, atol=1e-6)

    traced = runner.invoke(
        cli, ["predict", "--model-dir", str(half), "--trace", "-f", "json", texts[0]]
    )
    assert traced.exit_code == 0, traced.output
    final = json.loads(traced.output)["final"]
    assert final["baseline_weight"] == 0.5
    assert [final["probabilities"][label] for label in bundle.labels] == pytest.approx(
        expected[0], abs=1e-6
    )
    traced = runner.invoke(
        cli, ["predict", "--model-dir", str(half), "--trace", "-f", "json", texts[2]]
    )
    assert json.loads(traced.output)["final"]["baseline_weight"] == 0.0
    shown = runner.invoke(cli, ["predict", "--model-dir", str(half), "--trace", texts[2]])
    assert "the network alone answers a negation or a contrast" in shown.output
    info = runner.invoke(cli, ["info", str(half)])
    assert "blend (0.5 bag-of-words)" in info.output


def test_the_blend_temperature_sharpens_the_blended_tweets_only(half):
    from sentiment_cli.runtime.model_folder import read_model_dir
    from sentiment_cli.runtime.predict import predict_proba

    texts = ["worst day ever", "not bad at all"]
    plain = predict_proba(read_model_dir(half), texts)
    _set_weight(half, 0.5, temperature=0.5)
    sharp = predict_proba(read_model_dir(half), texts)
    expected = plain[0] ** 2 / (plain[0] ** 2).sum()  # softmax(log p / 0.5)
    np.testing.assert_allclose(sharp[0], expected, atol=1e-5)
    np.testing.assert_allclose(sharp[1], plain[1], atol=1e-6)  # the network's alone
    _set_weight(half, 0.5, temperature=0)
    with pytest.raises(Exception, match="blend.temperature"):
        read_model_dir(half)


def test_a_folder_blending_everywhere_mixes_every_tweet(runner, half):
    """A folder whose blend names no cues (as before the cues were) mixes every row."""
    from sentiment_cli.runtime.model_folder import read_model_dir
    from sentiment_cli.runtime.predict import predict_proba

    texts = ["not bad at all", "good, but so slow"]
    gated = predict_proba(read_model_dir(half), texts)
    _set_weight(half, 0.5, network_decides=())
    bundle = read_model_dir(half)
    bundle.blend = bundle.blend.__class__(0.0)
    network = predict_proba(bundle, texts)
    np.testing.assert_allclose(gated, network, atol=1e-6)
    everywhere = predict_proba(read_model_dir(half), texts)
    assert np.abs(everywhere - network).max() > 1e-3


def test_evaluate_compares_with_the_baseline_not_the_blended_bag(runner, half, tmp_path):
    from sentiment_cli.config import TextConfig
    from sentiment_cli.metrics import probability_metrics
    from sentiment_cli.runtime.bow import BagOfWords
    from sentiment_cli.text.tokenizer import tokenize_all

    data = write_csv(tmp_path / "scored.csv", TWEETS)
    result = runner.invoke(cli, ["evaluate", str(data), "--model-dir", str(half), "-f", "json"])
    assert result.exit_code == 0, result.output
    reported = json.loads(result.output)["baseline"]["log_loss"]
    tokens = tokenize_all([t for t, _ in TWEETS], TextConfig())
    truth = [label for _, label in TWEETS]
    labels = json.loads((half / "labels.json").read_text())
    baseline, bag = (
        probability_metrics(truth, BagOfWords.load(half, stem).aligned(tokens, labels), labels)
        for stem in ("baseline", "blend_bag")
    )
    assert reported == pytest.approx(baseline["log_loss"], abs=1e-4)
    assert abs(bag["log_loss"] - baseline["log_loss"]) > 1e-3


def test_a_blended_folder_with_a_bad_weight_or_baseline_is_refused(runner, half):
    (half / "blend_bag.npz").write_bytes(b"not a zip")
    result = runner.invoke(cli, ["predict", "--model-dir", str(half), "good"])
    assert result.exit_code != 0 and "blend_bag.npz" in result.output
    assert "Traceback" not in result.output
    _rehash(half)  # consistent with the manifest, but not a bag of words
    result = runner.invoke(cli, ["predict", "--model-dir", str(half), "good"])
    assert result.exit_code != 0
    assert "blend_bag.json / blend_bag.npz cannot be read" in result.output
    summary = json.loads((half / "summary.json").read_text())
    summary["blend"]["bag"] = "../elsewhere"
    (half / "summary.json").write_text(json.dumps(summary))
    _rehash(half)
    result = runner.invoke(cli, ["predict", "--model-dir", str(half), "good"])
    assert result.exit_code != 0 and "blend.bag must be one of" in result.output
    _set_weight(half, 1.5)
    result = runner.invoke(cli, ["predict", "--model-dir", str(half), "good"])
    assert result.exit_code != 0 and "blend.baseline_weight" in result.output
    _set_weight(half, 0.5, network_decides=["sarcasm"])
    result = runner.invoke(cli, ["predict", "--model-dir", str(half), "good"])
    assert result.exit_code != 0 and "blend.network_decides" in result.output


@pytest.mark.parametrize(
    "damage",
    [
        lambda m: m["vocabulary"].update({"good": len(m["vocabulary"])}),  # a char column
        lambda m: m["vocabulary"].update({"good": 1.0}),  # not a whole number
        lambda m: m["vocabulary"].update({"good": True}),
        lambda m: m["char_vocabulary"].update({" go": 0}),  # a word's column
        lambda m: m.update(vocabulary=sorted(m["vocabulary"])),  # a list, not gram -> column
    ],
)
def test_a_bag_whose_grams_point_outside_their_block_is_refused(half, damage):
    from sentiment_cli.errors import SentimentError
    from sentiment_cli.runtime.bow import BagOfWords

    meta = json.loads((half / "blend_bag.json").read_text())
    damage(meta)
    (half / "blend_bag.json").write_text(json.dumps(meta))
    with pytest.raises(SentimentError, match="blend_bag.json and blend_bag.npz do not match"):
        BagOfWords.load(half, "blend_bag")


def test_blend_features_words_blends_the_baseline_itself(runner, tiny_csv, tmp_path):
    args = train_args(tiny_csv, tmp_path / "m", "--set", "train.blend_features=words")
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "m" / "summary.json").read_text())["blend"]["bag"] == "baseline"
    assert not (tmp_path / "m" / "blend_bag.json").exists()
    _set_weight(tmp_path / "m", 0.5)
    result = runner.invoke(cli, ["predict", "--model-dir", str(tmp_path / "m"), "good"])
    assert result.exit_code == 0, result.output


def test_a_few_tweets_that_share_no_word_still_get_their_bags(runner, tmp_path):
    rows = [(f"{a} {b}", label) for a, b, label in (
        ("alpha", "beta", "positive"), ("gamma", "delta", "negative"),
        ("epsilon", "zeta", "positive"), ("eta", "theta", "negative"),
        ("iota", "kappa", "positive"), ("lambda", "mu", "negative"))]  # fmt: skip
    data = write_csv(tmp_path / "few.csv", rows)
    result = runner.invoke(cli, train_args(data, tmp_path / "m"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "m" / "baseline.json").read_text())["vocabulary"]
    assert json.loads((tmp_path / "m" / "blend_bag.json").read_text())["char_vocabulary"]


def test_without_a_baseline_there_is_nothing_to_blend(runner, tiny_csv, tmp_path):
    args = train_args(
        tiny_csv, tmp_path / "m", "--set", "train.blend=auto", "--set", "train.baseline=false"
    )
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "m" / "summary.json").read_text())["blend"] is None
    assert not (tmp_path / "m" / "baseline.json").exists()
    assert not (tmp_path / "m" / "blend_bag.json").exists()


@pytest.mark.parametrize("kind", ["none", "sqrt", "balanced"])
def test_class_weights_weigh_the_rare_class_up_as_named_in_the_loss_and_the_baseline(kind):
    from sentiment_cli.models.baseline import Baseline, class_weights

    labels = ["neutral"] * 30 + ["negative"] * 10
    weights = class_weights(labels, ["negative", "neutral"], kind)
    expected = {
        "none": None,
        "balanced": {0: 40 / (2 * 10), 1: 40 / (2 * 30)},
        "sqrt": {0: (40 / 20) ** 0.5, 1: (40 / 60) ** 0.5},
    }[kind]
    assert weights == (None if expected is None else pytest.approx(expected))
    # the baseline weighs its classes the same way: the rarer class gains probability
    tokens = [["meh", str(i % 7)] for i in range(40)]
    rare = {
        k: Baseline.fit(tokens, labels, k, seed=0).predict_proba([["meh"]])[0].min()
        for k in ("none", "sqrt", "balanced")
    }
    assert rare["none"] < rare["sqrt"] < rare["balanced"]
