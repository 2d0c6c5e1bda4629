import pytest

from sentiment_cli.metrics import classification_metrics


def test_metrics_on_a_hand_checked_case():
    y_true = ["positive", "positive", "negative", "negative", "neutral", "neutral"]
    y_pred = ["positive", "neutral", "negative", "positive", "neutral", "neutral"]
    m = classification_metrics(y_true, y_pred, ["negative", "neutral", "positive"])
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(4 / 6)
    # recall: negative 1/2, neutral 2/2, positive 1/2
    assert m["macro_recall"] == pytest.approx((0.5 + 1 + 0.5) / 3)
    # precision: negative 1/1, neutral 2/3, positive 1/2
    assert m["macro_precision"] == pytest.approx((1 + 2 / 3 + 0.5) / 3)
    # F1: negative 2/3, positive 1/2 -> f1_pn = 7/12
    assert m["f1_pn"] == pytest.approx((2 / 3 + 0.5) / 2)
    assert m["per_class"]["neutral"] == {
        "precision": pytest.approx(2 / 3),
        "recall": 1.0,
        "f1": pytest.approx(0.8),
        "support": 2,
    }
    assert m["confusion_matrix"] == {
        "labels": ["negative", "neutral", "positive"],
        "matrix": [[1, 0, 1], [0, 2, 0], [0, 1, 1]],
    }


def test_f1_pn_is_null_without_positive_and_negative():
    m = classification_metrics(["spam", "ham"], ["spam", "spam"], ["ham", "spam"])
    assert m["f1_pn"] is None
    assert m["macro_recall"] == pytest.approx(0.5)
