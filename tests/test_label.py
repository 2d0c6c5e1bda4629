"""label: the tweets chosen, the answers kept, the page, --simulate."""

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest

from sentiment_cli.cli import cli
from tests.conftest import TWEETS, browser, write_csv

LABELS = ["negative", "neutral", "positive"]


def pool_of(texts):
    from sentiment_cli.labelling.pool import Pool

    return Pool("pool.csv", list(texts))


# Choosing -----------------------------------------------------------------------------


def test_near_duplicates_and_retweets_are_offered_once():
    from sentiment_cli.labelling.choose import Chooser

    texts = [
        "RT @a: the new phone is great",
        "RT @b: the new phone is great",
        "the new phone is great http://t.co/x",
        "worst update ever",
        "battery life is fine I guess",
    ]
    for seed in range(5):
        chooser = Chooser(pool_of(texts).signatures(), seed=seed)
        chosen = chooser.batch(3, None)
        assert len([row for row in chosen if row < 3]) == 1 and {3, 4} <= set(chosen)
        rest = chooser.batch(5, None)  # only copies are left: they come last, once each
        assert sorted(chosen + rest) == [0, 1, 2, 3, 4]
        assert chooser.batch(5, None) == []


UNSURE = [2, 5, 11, 17, 23, 31]  # of the 40 rows of ``scored_pool``


def scored_pool(n=40):
    """A model's probabilities and features of ``n`` pool rows, unsure of ``UNSURE``
    only: the features have one length, so only uncertainty sets them apart."""
    probs = np.tile([0.98, 0.01, 0.01], (n, 1))
    probs[UNSURE] = [0.4, 0.35, 0.25]
    features = np.random.default_rng(0).normal(size=(n, 8))
    return probs, features / np.linalg.norm(features, axis=1, keepdims=True)


def test_uncertain_tweets_come_first_and_a_fifth_at_random():
    from sentiment_cli.labelling.choose import Chooser

    n, unsure = 40, UNSURE
    probs, features = scored_pool(n)
    firsts, from_unsure, random_picks = set(), [], set()
    for seed in range(20):
        chooser = Chooser([frozenset([str(i)]) for i in range(n)], seed)
        batch = chooser.batch(5, probs, features)
        assert len(set(batch)) == 5
        firsts.add(batch[0])
        from_unsure.append(len(set(batch[:4]) & set(unsure)))
        random_picks.add(batch[4])
    assert firsts <= set(unsure)  # the largest gradient first
    assert np.mean(from_unsure) >= 3  # 6 of 40 rows, but most of the picks
    assert len(random_picks) > 5


def test_choose_random_ignores_the_model_and_still_offers_copies_once():
    from sentiment_cli.labelling.choose import Chooser

    probs, features = scored_pool(40)
    signatures = [frozenset([str(i)]) for i in range(40)]
    from_unsure = [
        len(set(Chooser(signatures, seed, at_random=True).batch(5, probs, features)) & set(UNSURE))
        for seed in range(40)
    ]
    assert np.mean(from_unsure) < 1.5  # 6 of 40 rows: 0.75 of 5 picks on average
    texts = ["RT @a: the new phone is great", "RT @b: the new phone is great", "worst update"]
    chooser = Chooser(pool_of(texts).signatures(), 0, at_random=True)
    first = chooser.batch(2, probs[:3], features[:3])
    assert len([row for row in first if row < 2]) == 1 and 2 in first


def test_taken_rows_never_come_back():
    from sentiment_cli.labelling.choose import Chooser

    chooser = Chooser([frozenset([str(i)]) for i in range(30)], seed=1)
    chooser.take([0, 1, 2])
    seen = set()
    while batch := chooser.batch(7, None):
        assert seen.isdisjoint(batch) and {0, 1, 2}.isdisjoint(batch)
        seen.update(batch)
    assert seen == set(range(3, 30))


# The answers file ---------------------------------------------------------------------


def test_answers_are_on_disk_and_read_back(tmp_path):
    from sentiment_cli.labelling.answers import Answer, Answers

    path = tmp_path / "labelled.csv"
    answers = Answers.open(path, LABELS)
    answers.add(Answer("so good, really", "positive", 3, "positive", "0.900"))
    answers.add(Answer('a "quoted",\nline', "negative", 5))
    answers.skip("skip me")
    again = Answers.open(path, LABELS)
    assert [(a.text, a.label, a.pool_row) for a in again.answers] == [
        ("so good, really", "positive", 3),
        ('a "quoted",\nline', "negative", 5),
    ]
    assert again.skipped == ["skip me"]
    assert again.undo().text == 'a "quoted",\nline'
    assert [a.text for a in Answers.open(path, LABELS).answers] == ["so good, really"]
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert rows[0]["suggested"] == "positive" and rows[0]["answered_at"]


def test_a_row_cut_by_a_crash_is_dropped_not_fatal(tmp_path):
    from sentiment_cli.labelling.answers import Answer, Answers

    path = tmp_path / "labelled.csv"
    Answers.open(path, LABELS).add(Answer("kept", "neutral", 0))
    with path.open("a", encoding="utf-8") as handle:
        handle.write('"half a tweet, nega')
    answers = Answers.open(path, LABELS)
    assert [a.text for a in answers.answers] == ["kept"]
    assert path.read_bytes().endswith(b"\r\n") and b"half" not in path.read_bytes()


def test_a_file_of_other_labels_is_refused_with_its_row(tmp_path, runner):
    path = write_csv(tmp_path / "labelled.csv", [("fine", "neutral"), ("great", "joy")])
    pool = write_csv(tmp_path / "pool.csv", TWEETS, header=("text", "label"))
    result = runner.invoke(cli, ["label", str(pool), "-o", str(path)])
    assert result.exit_code == 1
    assert f"{path}, row 3: label 'joy' is not one of --labels negative,neutral,positive" in (
        result.output
    )
    assert "Traceback" not in result.output


def test_a_file_that_is_not_an_answers_file_is_refused(tmp_path, runner):
    path = tmp_path / "notes.csv"
    path.write_text("name,age\nann,3\n", encoding="utf-8")
    pool = write_csv(tmp_path / "pool.csv", TWEETS)
    result = runner.invoke(cli, ["label", str(pool), "-o", str(path)])
    assert result.exit_code == 1
    assert "exists and is not a labelling file" in result.output
    assert path.read_text(encoding="utf-8") == "name,age\nann,3\n"


# The session --------------------------------------------------------------------------


def session_on(tmp_path, texts, labels=LABELS, every=1000):
    from sentiment_cli.labelling.answers import Answers
    from sentiment_cli.labelling.session import Session

    answers = Answers.open(tmp_path / "labelled.csv", labels)
    models = tmp_path / "labelled.models"
    models.mkdir(exist_ok=True)
    return Session(pool_of(texts), answers, 0, every, models, lambda m: None, folds=0)


TEXTS = [text for text, _ in TWEETS]


def test_answer_skip_undo_and_resume(tmp_path):
    session = session_on(tmp_path, TEXTS)
    first = session.next()
    assert first["guess"]["label"] in LABELS  # the built-in model knows these labels
    second = session.answer(first["row"], "positive")
    third = session.skip(second["row"])
    back = session.undo()  # the skip taken back: the same tweet again
    assert back["row"] == second["row"]
    fourth = session.answer(back["row"], "negative")
    assert session.undo()["row"] == second["row"]  # the answer taken back
    session.answer(second["row"], "neutral")
    assert third["row"] != second["row"] and fourth is not None

    resumed = session_on(tmp_path, TEXTS)
    answered = {a.text for a in resumed.answers.answers}
    assert answered == {TEXTS[first["row"]], TEXTS[second["row"]]}
    shown = set()
    while (tweet := resumed.next()) is not None:
        shown.add(tweet["text"])
        resumed.answer(tweet["row"], "neutral")
    assert shown.isdisjoint(answered)
    assert len(resumed.answers.answers) == len(set(TEXTS))


def test_every_tweet_is_offered_while_batches_are_chosen_in_a_thread(tmp_path, monkeypatch):
    """A slow choice (a large pool) must not end the session early: the answer that
    finds the queue empty waits for the batch being chosen."""
    from sentiment_cli.labelling.choose import Chooser

    slow = Chooser.batch

    def batch(self, *args, **kwargs):
        time.sleep(0.05)
        return slow(self, *args, **kwargs)

    monkeypatch.setattr(Chooser, "batch", batch)
    texts = [f"{text} number {i}" for i in range(4) for text in TEXTS]
    session = session_on(tmp_path, texts)
    seen = []
    while (tweet := session.next()) is not None:
        seen.append(tweet["row"])
        session.answer(tweet["row"], "neutral")
    assert sorted(seen) == list(range(len(texts)))


def test_skipped_tweets_come_back_last(tmp_path):
    session = session_on(tmp_path, TEXTS[:6], labels=["a", "b"])
    assert session.model is None  # labels the built-in model does not know: random
    skipped = session.next()["row"]
    session.skip(skipped)
    order = []
    while (tweet := session.next()) is not None:
        order.append(tweet["row"])
        session.answer(tweet["row"], "a")
    assert order[-1] == skipped and order.count(skipped) == 1


def test_two_of_the_built_in_labels_get_its_guess_among_them(tmp_path):
    session = session_on(tmp_path, TEXTS, labels=["positive", "negative"])
    guess = session.next()["guess"]
    assert set(guess["probabilities"]) == {"negative", "positive"}
    assert guess["label"] in ("negative", "positive")
    assert sum(guess["probabilities"].values()) == pytest.approx(1.0)


def test_only_the_tweet_shown_can_be_answered(tmp_path):
    session = session_on(tmp_path, TEXTS)
    shown = session.next()["row"]
    with pytest.raises(ValueError, match="is not the one shown"):
        session.answer((shown + 1) % len(TEXTS), "neutral")


def test_stopped_helping_after_two_flat_retrains():
    from sentiment_cli.labelling.session import stopped_helping

    def rounds(*f1):
        return [{"answers": 25 * (i + 1), "cross_validated": {"macro_f1": f, "accuracy": f}}
                for i, f in enumerate(f1)]  # fmt: skip

    assert stopped_helping(rounds(0.5, 0.6)) is None
    assert stopped_helping(rounds(0.5, 0.6, 0.65)) is None
    assert stopped_helping(rounds(0.5, 0.6, 0.605, 0.607))["answers"] == 100


# The page -----------------------------------------------------------------------------


@pytest.fixture
def page(tmp_path):
    from sentiment_cli.labelling.page import make_server

    session = session_on(tmp_path, TEXTS)
    server = make_server(session, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", session
    server.shutdown()
    server.server_close()


def fetch(url, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["X-Label-Token"] = token
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def token_of(page_html: str) -> str:
    return page_html.split("TOKEN = ")[1].split('"')[1]


def test_the_api_answers_with_the_next_tweet_and_needs_the_token(page):
    url, session = page
    status, html = fetch(url + "/")
    assert status == 200 and "<kbd>1</kbd> negative" in html
    tweet = json.loads(fetch(url + "/api/next")[1])
    status, body = fetch(url + "/api/answer", {"row": tweet["row"], "label": "neutral"})
    assert status == 403
    assert session.answers.answers == []
    token = token_of(html)
    status, body = fetch(url + "/api/answer", {"row": tweet["row"], "label": "neutral"}, token)
    assert status == 200 and json.loads(body)["row"] != tweet["row"]
    with open(session.answers.path, newline="", encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert [(int(r["pool_row"]), r["label"]) for r in written] == [(tweet["row"], "neutral")]
    status, body = fetch(url + "/api/answer", {"row": "x", "label": "neutral"}, token)
    assert status == 400 and "error" in json.loads(body)
    assert json.loads(fetch(url + "/api/status")[1])["counts"]["neutral"] == 1


def test_keys_answer_and_undo_in_a_headless_browser(page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, session = page
    driver = browser()
    try:
        driver.get(url)
        wait = WebDriverWait(driver, 20)
        wait.until(lambda d: d.find_element(By.ID, "tweet").text.strip())
        body = driver.find_element(By.TAG_NAME, "body")
        first = driver.find_element(By.ID, "tweet").text
        body.send_keys("3")  # positive
        wait.until(lambda d: d.find_element(By.ID, "tweet").text != first)
        second = driver.find_element(By.ID, "tweet").text
        body.send_keys("1")  # negative
        wait.until(lambda d: d.find_element(By.ID, "tweet").text != second)
        body.send_keys("u")  # take "negative" back: the second tweet again
        wait.until(lambda d: d.find_element(By.ID, "tweet").text == second)
        driver.find_element(By.CSS_SELECTOR, 'button[data-label="neutral"]').click()
        wait.until(lambda d: d.find_element(By.ID, "tweet").text != second)
        wait.until(lambda d: "2 answered" in d.find_element(By.ID, "status").text)
    finally:
        driver.quit()
    rows = list(csv.DictReader(session.answers.path.open(encoding="utf-8")))
    assert [(r["text"], r["label"]) for r in rows] == [(first, "positive"), (second, "neutral")]


def test_kill_9_loses_no_answer_and_the_rerun_resumes(tmp_path):
    pool = write_csv(tmp_path / "pool.csv", TWEETS)
    out = tmp_path / "labelled.csv"
    command = [sys.executable, "-m", "sentiment_cli", "label", str(pool), "-o", str(out),
               "--port", "0", "--folds", "0"]  # fmt: skip

    def start():
        # a background job (as CI may be) starts with SIGINT ignored, and so would the
        # page: give it the default, as a terminal would, so that SIGINT ends it
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        for line in process.stdout:
            if "open http://" in line:
                return process, line.split("open ")[1].split("/ ")[0]
        raise AssertionError("the page never started")

    process, url = start()
    token = token_of(fetch(url + "/")[1])
    answered = []
    for label in ("negative", "positive", "neutral"):
        tweet = json.loads(fetch(url + "/api/next")[1])
        assert fetch(url + "/api/answer", {"row": tweet["row"], "label": label}, token)[0] == 200
        answered.append((tweet["text"], label))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["text"], r["label"]) for r in rows] == answered

    process, url = start()
    try:
        tweet = json.loads(fetch(url + "/api/next")[1])
        assert tweet["text"] not in {text for text, _ in answered}
        assert json.loads(fetch(url + "/api/status")[1])["answered"] == 3
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_the_port_in_use_is_a_clear_error(tmp_path, runner):
    import socket

    pool = write_csv(tmp_path / "pool.csv", TWEETS)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(cli, ["label", str(pool), "-o", str(tmp_path / "l.csv"),
                                     "--port", str(port)])  # fmt: skip
    assert result.exit_code == 1
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in result.output


# --simulate ---------------------------------------------------------------------------


def test_simulate_writes_the_chosen_rows_in_order(tmp_path, runner):
    rows = [(f"{text} #{i}", label) for i in range(3) for text, label in TWEETS]
    pool = write_csv(tmp_path / "pool.csv", rows)
    out = tmp_path / "chosen.csv"
    result = runner.invoke(cli, ["label", str(pool), "-o", str(out), "--simulate", "--budget",
                                 "24", "--retrain-every", "12"])  # fmt: skip
    assert result.exit_code == 0, result.output
    chosen = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(chosen) == 24 and len({r["pool_row"] for r in chosen}) == 24
    assert all(dict(rows)[r["text"]] == r["label"] for r in chosen)
    assert "24 tweets chosen" in result.output
    again = runner.invoke(cli, ["label", str(pool), "-o", str(out), "--simulate", "--budget", "5"])
    assert again.exit_code == 1 and "--force replaces it" in again.output


def test_simulate_choose_random_draws_without_retraining(tmp_path, runner):
    rows = [(f"{text} #{i}", label) for i in range(3) for text, label in TWEETS]
    pool = write_csv(tmp_path / "pool.csv", rows)
    chosen = []
    for name in ("a.csv", "b.csv"):
        result = runner.invoke(cli, ["label", str(pool), "-o", str(tmp_path / name), "--simulate",
                                     "--budget", "24", "--retrain-every", "12",
                                     "--choose", "random"])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "answered (" not in result.output  # no retrain: the choice reads no model
        chosen.append([r["pool_row"] for r in csv.DictReader((tmp_path / name).open())])
    assert chosen[0] == chosen[1] and len(set(chosen[0])) == 24  # the seed decides
    assert chosen[0] != sorted(chosen[0], key=int)


def test_simulate_needs_a_budget_and_the_label_column(tmp_path, runner):
    pool = write_csv(tmp_path / "pool.csv", TWEETS)
    result = runner.invoke(cli, ["label", str(pool), "-o", str(tmp_path / "c.csv"), "--simulate"])
    assert result.exit_code == 2 and "--simulate needs --budget N" in result.output
    result = runner.invoke(cli, ["label", str(pool), "-o", str(tmp_path / "c.csv"), "--simulate",
                                 "--budget", "3", "--label-column", "mood"])  # fmt: skip
    assert result.exit_code == 1 and "mood" in result.output
