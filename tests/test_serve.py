"""serve: the JSON API, its refusals, and the page in a real headless browser."""

import json
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, browser

starlette = pytest.importorskip("starlette", reason="the [serve] extra is not installed")


@pytest.fixture(scope="module")
def client(trained_model):
    from starlette.testclient import TestClient

    from sentiment_cli.serving.server import create_app

    return TestClient(create_app(trained_model))


def test_predict_returns_what_the_cli_prints(client, trained_model, runner):
    from sentiment_cli.cli import cli

    texts = ["not bad at all", "worst day ever :("]
    response = client.post("/predict", json={"texts": texts})
    assert response.status_code == 200
    printed = runner.invoke(
        cli, ["predict", "--model-dir", str(trained_model), "-f", "json", *texts]
    )
    assert response.json() == json.loads(printed.stdout)


def test_trace_adds_the_prediction_after_every_word(client):
    response = client.post("/predict", json={"texts": ["not bad at all"], "trace": True})
    trace = response.json()[0]["trace"]
    assert [step["token"] for step in trace["steps"]] == ["not", "bad_NEG", "at_NEG", "all_NEG"]
    assert [step["word"] for step in trace["steps"]] == ["not", "bad", "at", "all"]
    assert [step["negated"] for step in trace["steps"]] == [False, True, True, True]
    assert trace["final"]["label"] == response.json()[0]["label"]


def test_health_and_page(client):
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["labels"] == ["negative", "neutral", "positive"]
    page = client.get("/")
    assert page.status_code == 200 and "The prediction after every word" in page.text


@pytest.mark.parametrize(
    "body,status,message",
    [
        (b"{not json", 400, "the body is not valid JSON"),
        (b'["a"]', 422, 'expected a JSON object with "texts"'),
        (b'{"text": ["a"]}', 422, 'expected a JSON object with "texts"'),
        (b'{"texts": "a"}', 422, '"texts" must be a list of strings, got str'),
        (b'{"texts": ["a", 3]}', 422, "item 1 is not a string"),
        (b'{"texts": ["a"], "trace": "yes"}', 422, '"trace" must be true or false'),
        (json.dumps({"texts": ["a"] * 1001}).encode(), 413, "at most 1000 texts"),
        (json.dumps({"texts": ["x" * 1_000_001]}).encode(), 413, "over 1,000,000 bytes"),
    ],
)
def test_bad_requests_get_a_4xx_and_the_server_keeps_serving(client, body, status, message):
    response = client.post("/predict", content=body)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert client.post("/predict", json={"texts": ["ok"]}).status_code == 200


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(trained_model):
    """`sentiment-cli serve` in its own process, on a free loopback port."""
    import httpx

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sentiment_cli", "serve", "--model-dir", str(trained_model),
         "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"serve did not start: {process.stderr.read()}")
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_the_server_binds_to_loopback_by_default(server):
    import psutil

    port = int(server.rsplit(":", 1)[1])
    listening = {
        c.laddr.ip
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }
    assert listening == {"127.0.0.1"}  # a server on 0.0.0.0 would also answer 127.0.0.1


def test_a_foreign_host_header_is_refused_against_dns_rebinding(server):
    import httpx

    for host in ("attacker.example", "attacker.example:8080", "127.0.0.1.nip.io"):
        response = httpx.post(
            f"{server}/predict", json={"texts": ["hi"]}, headers={"Host": host}, timeout=5
        )
        assert response.status_code == 400, host
        assert httpx.get(f"{server}/", headers={"Host": host}, timeout=5).status_code == 400
    for host in ("127.0.0.1", f"localhost:{server.rsplit(':', 1)[1]}"):
        response = httpx.post(
            f"{server}/predict", json={"texts": ["hi"]}, headers={"Host": host}, timeout=5
        )
        assert response.status_code == 200, host


def test_a_server_bound_elsewhere_answers_any_host():
    from sentiment_cli.serving.server import allowed_hosts

    assert "localhost" in allowed_hosts("127.0.0.1")
    assert allowed_hosts("0.0.0.0") is None  # reached by whatever name points at it


def test_the_page_in_a_headless_browser(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser()
    try:
        driver.get(server)
        wait = WebDriverWait(driver, 20)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#tokens span"))
        box = driver.find_element(By.ID, "text")
        box.clear()
        box.send_keys("I hate this, but the ending was great")
        driver.find_element(By.ID, "go").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#tokens span")) == 9)
        tokens = driver.find_elements(By.CSS_SELECTOR, "#tokens span")
        # the page shows the words as the user typed them, not the lowercased tokens
        assert [t.text for t in tokens][:3] == ["I", "hate", "this"]
        assert {t.get_attribute("class") for t in tokens} <= {"negative", "neutral", "positive"}
        assert driver.find_element(By.ID, "label").text in {"negative", "neutral", "positive"}
        assert len(driver.find_elements(By.CSS_SELECTOR, "#probs .bar")) == 3
        driver.save_screenshot(str(tmp_path / "page.png"))
        assert (tmp_path / "page.png").stat().st_size > 10_000
    finally:
        driver.quit()
