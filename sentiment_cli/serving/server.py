"""An HTTP JSON API over a model folder (Starlette on uvicorn, the ``[serve]`` extra).

    POST /predict   {"texts": [...], "trace": false, "min_confidence": null}  ->  what
                    ``predict --format json`` prints; with "trace": true each result also
                    has the per-word trace; with "min_confidence": P a text whose top
                    probability is below P is labelled "uncertain"
    GET  /health    {"status": "ok", "model": DIR, "labels": [...]}
    GET  /          a small page: type a tweet, see its label, probabilities and the
                    prediction after every word

It runs the TensorFlow-free runtime. A bad request gets a 4xx answer with
``{"error": "..."}`` and the server keeps serving. Bound to a loopback address, it
answers only requests whose Host header names a loopback host (``allowed_hosts``).
"""

from __future__ import annotations

import json
from pathlib import Path

from sentiment_cli.errors import SentimentError
from sentiment_cli.io.writers import is_utf8
from sentiment_cli.limits import MAX_REQUEST_BYTES, MAX_REQUEST_TEXTS
from sentiment_cli.models.keras_runtime import open_model

MAX_TEXTS = MAX_REQUEST_TEXTS
MAX_BYTES = MAX_REQUEST_BYTES
INLINE_CHARS = 2_000  # requests this small are scored on the event loop, no thread hop
MAX_PENDING = 16  # requests being scored in threads; one more gets 503, not a stall


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def parse_request(body: bytes) -> tuple[list[str], bool, float | None]:
    """(texts, trace, min_confidence) from a request body, or BadRequest saying what is
    wrong."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(400, f"the body is not valid JSON: {str(exc)[:200]}") from None
    except RecursionError:
        raise BadRequest(400, "the body's JSON is nested too deeply") from None
    if not isinstance(payload, dict) or "texts" not in payload:
        raise BadRequest(422, 'expected a JSON object with "texts": a list of strings')
    texts, trace = payload["texts"], payload.get("trace", False)
    if not isinstance(texts, list):
        raise BadRequest(422, f'"texts" must be a list of strings, got {type(texts).__name__}')
    bad = [i for i, text in enumerate(texts) if not isinstance(text, str)]
    if bad:
        raise BadRequest(422, f'"texts" must hold strings only; item {bad[0]} is not a string')
    if len(texts) > MAX_TEXTS:
        raise BadRequest(413, f"at most {MAX_TEXTS} texts per request, got {len(texts)}")
    if not isinstance(trace, bool):
        raise BadRequest(422, '"trace" must be true or false')
    min_confidence = payload.get("min_confidence")
    if min_confidence is not None and (
        isinstance(min_confidence, bool)
        or not isinstance(min_confidence, int | float)
        or not 0 <= min_confidence <= 1
    ):
        raise BadRequest(422, '"min_confidence" must be a number from 0 to 1, or null')
    lone = next((i for i, text in enumerate(texts) if not is_utf8(text)), None)
    if lone is not None:
        raise BadRequest(422, f"item {lone} holds a lone surrogate, not text")
    return texts, trace, min_confidence


async def read_body(request) -> bytes:
    """The request body, refused past MAX_BYTES whatever Content-Length claims."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BYTES:
        raise BadRequest(413, f"the body is over {MAX_BYTES:,} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BYTES:
            raise BadRequest(413, f"the body is over {MAX_BYTES:,} bytes")
    return body


def script_json(value) -> str:
    """JSON safe inside a <script> block: a label such as "</script><script>..." (labels
    come from training data) cannot end the block or open another."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def allowed_hosts(host: str) -> list[str] | None:
    """The Host headers a server bound to ``host`` answers. On a loopback address, only
    loopback names: a page served on 127.0.0.1 that a web page elsewhere reaches through
    DNS rebinding (its own name resolving to 127.0.0.1) is refused, as Jupyter does.
    Bound to another address the server is meant to be reached by other names: None."""
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        return sorted({*LOOPBACK_HOSTS, host})
    return None


def shown_path(path: str | Path) -> str:
    """A path for a JSON answer: bytes that were not UTF-8 shown as \\x escapes."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def create_app(model_dir: str | Path, hosts: list[str] | None = None):
    """The Starlette application serving ``model_dir``; with ``hosts``, a request whose
    Host header names another host is answered 400 (``allowed_hosts``)."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    from sentiment_cli.runtime.predict import check_min_confidence, score_texts
    from sentiment_cli.runtime.trace import trace as trace_of

    bundle = open_model(model_dir)
    score_texts(bundle, ["warm up"])  # loads the tokenizer before the first request

    def answer(texts: list[str], trace: bool, min_confidence: float | None) -> list[dict]:
        records = score_texts(bundle, texts, min_confidence).records()
        if trace:
            for record in records:
                record["trace"] = trace_of(bundle, record["text"])
        return records

    pending = {"count": 0}

    async def predict(request: Request):
        try:
            texts, trace, min_confidence = parse_request(await read_body(request))
            check_min_confidence(min_confidence, bundle.labels)
            if sum(map(len, texts)) <= INLINE_CHARS and not trace:
                # A few short texts score in well under a millisecond: a thread hop costs more.
                return JSONResponse(answer(texts, trace, min_confidence))
            if pending["count"] >= MAX_PENDING:
                raise BadRequest(503, f"busy: {MAX_PENDING} requests are being scored; retry")
            pending["count"] += 1
            try:  # off the event loop: /health and small requests keep answering
                reply = await run_in_threadpool(answer, texts, trace, min_confidence)
                return JSONResponse(reply)
            finally:
                pending["count"] -= 1
        except BadRequest as exc:
            headers = {"Retry-After": "1"} if exc.status == 503 else None
            return JSONResponse({"error": exc.message}, status_code=exc.status, headers=headers)
        except SentimentError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)

    async def health(request: Request):
        return JSONResponse(
            {"status": "ok", "model": shown_path(model_dir), "labels": bundle.labels}
        )

    async def page(request: Request):
        return HTMLResponse(PAGE.replace("__LABELS__", script_json(bundle.labels)))

    routes = [
        Route("/predict", predict, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/", page, methods=["GET"]),
    ]
    return application(routes, hosts)


def application(routes: list, hosts: list[str] | None):
    """Starlette serving ``routes``; with ``hosts``, only requests whose Host header
    names one of them (the others get 400)."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    guard = [Middleware(TrustedHostMiddleware, allowed_hosts=hosts)] if hosts else []
    return Starlette(routes=routes, middleware=guard)


def serve(model_dir: str | Path, host: str = "127.0.0.1", port: int = 8080) -> None:
    import uvicorn

    app = create_app(model_dir, allowed_hosts(host))
    uvicorn.run(app, host=host, port=port, log_level="warning")


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sentiment-cli</title>
<style>
 body { font-family: system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; color: #222; }
 textarea { width: 100%; font-size: 1.1rem; padding: .5rem; box-sizing: border-box; }
 button { font-size: 1rem; padding: .4rem 1.2rem; margin-top: .5rem; }
 #label { font-size: 1.6rem; font-weight: bold; margin: 1rem 0 .3rem; }
 .bar { display: flex; align-items: center; gap: .5rem; margin: .2rem 0; }
 .bar span { width: 6rem; } .bar div { height: .9rem; background: #888; }
 #tokens span { display: inline-block; padding: .2rem .35rem; margin: .15rem;
                border-radius: .3rem; }
 .negative { background: #f4a6a6; } .neutral { background: #d8d8d8; }
 .positive { background: #9fdc9f; }
 #error { color: #b00; }
</style></head>
<body>
<h1>sentiment-cli</h1>
<textarea id="text" rows="3">not bad at all, actually pretty good</textarea>
<button id="go">Predict</button>
<div id="error"></div>
<div id="label"></div>
<div id="probs"></div>
<h3>The prediction after every word</h3>
<div id="tokens"></div>
<p><small>Each word is coloured by what the model would predict if the tweet ended there.
<span class="negative">negative</span> <span class="neutral">neutral</span>
<span class="positive">positive</span></small></p>
<script>
const labels = __LABELS__;
const known = new Set(["negative", "neutral", "positive"]);
async function go() {
  const error = document.getElementById("error");
  error.textContent = "";
  const response = await fetch("/predict", {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({texts: [document.getElementById("text").value], trace: true})});
  const data = await response.json();
  if (!response.ok) { error.textContent = data.error; return; }
  const result = data[0];
  document.getElementById("label").textContent = result.label;
  const probs = document.getElementById("probs");
  probs.replaceChildren();
  for (const label of labels) {
    const row = document.createElement("div"); row.className = "bar";
    const name = document.createElement("span"); name.textContent = label;
    const bar = document.createElement("div");
    bar.style.width = (result.probabilities[label] * 20) + "rem";
    const value = document.createElement("small");
    value.textContent = result.probabilities[label].toFixed(3);
    row.append(name, bar, value); probs.append(row);
  }
  const tokens = document.getElementById("tokens");
  tokens.replaceChildren();
  for (const step of result.trace.steps) {
    const span = document.createElement("span");
    span.textContent = step.word + (step.negated ? "\u00ac" : "");
    span.className = known.has(step.label) ? step.label : "neutral";
    span.title = "read as " + step.token + ": " +
      labels.map(l => l + " " + step.probabilities[l].toFixed(2)).join(", ");
    tokens.append(span);
  }
}
document.getElementById("go").addEventListener("click", go);
go();
</script>
</body></html>
"""
