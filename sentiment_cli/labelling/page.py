"""The labelling page: one tweet at a time, answered from the keyboard or by a click.

A standard-library HTTP server (threads; local only: it binds to 127.0.0.1 unless told
otherwise) serves one page and a small JSON API over a ``Session``:

    GET  /              the page
    GET  /api/next      the tweet to show: {"row", "text", "guess"}, or null when done
    GET  /api/status    answers per label, the model in use, retrains and their
                        cross-validated scores, where more labels stopped helping
    POST /api/answer    {"row", "label"} -> the next tweet (the answer is on disk first)
    POST /api/skip      {"row"} -> the next tweet
    POST /api/undo      {} -> the tweet taken back, shown again

POSTs carry the session's token (in the page; a header), so that no other web page the
browser has open can answer in the user's name.
"""

from __future__ import annotations

import html
import json
import secrets
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sentiment_cli.errors import SentimentError
from sentiment_cli.labelling.session import Session

MAX_BODY = 64 * 1024


def make_server(session: Session, host: str, port: int) -> ThreadingHTTPServer:
    token = secrets.token_urlsafe(16)
    page = render(session.answers.labels, token).encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # the terminal shows the session's own lines
            pass

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            if self.path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")
            elif self.path == "/api/next":
                self._json(session.next())
            elif self.path == "/api/status":
                self._json(session.status())
            else:
                self._json({"error": f"no such page: {self.path}"}, HTTPStatus.NOT_FOUND)

        def do_POST(self) -> None:  # noqa: N802
            if self.headers.get("X-Label-Token") != token:
                self._json({"error": "missing or wrong session token"}, HTTPStatus.FORBIDDEN)
                return
            try:
                body = self._body()
                if self.path == "/api/answer":
                    self._json(session.answer(int(body["row"]), str(body["label"])))
                elif self.path == "/api/skip":
                    self._json(session.skip(int(body["row"])))
                elif self.path == "/api/undo":
                    self._json(session.undo())
                else:
                    self._json({"error": f"no such action: {self.path}"}, HTTPStatus.NOT_FOUND)
            except (KeyError, TypeError, ValueError, SentimentError) as exc:
                self._json({"error": str(exc)}, HTTPStatus.BAD_REQUEST)

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise ValueError(f"request body over {MAX_BODY} bytes")
            payload = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(payload, dict):
                raise ValueError("expected a JSON object")
            return payload

        def _json(self, payload, status=HTTPStatus.OK) -> None:
            self._send(status, json.dumps(payload).encode("utf-8"), "application/json")

        def _send(self, status, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def render(labels: list[str], token: str) -> str:
    keys = {str(i + 1): label for i, label in enumerate(labels[:9])}
    buttons = "".join(
        f'<button class="label" data-label="{html.escape(label)}">'
        f"<kbd>{key}</kbd> {html.escape(label)}</button>"
        for key, label in keys.items()
    )
    return (
        PAGE.replace("__BUTTONS__", buttons)
        .replace("__KEYS__", json.dumps(keys))
        .replace("__TOKEN__", json.dumps(token))
    )


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>sentiment-cli label</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; color: #222; }
#tweet { font-size: 1.5rem; line-height: 1.4; padding: 1.2rem; border: 1px solid #ccc;
         border-radius: .5rem; min-height: 4rem; white-space: pre-wrap; }
#guess { color: #666; margin: .5rem 0 1rem; }
button { font-size: 1.05rem; margin: .2rem; padding: .5rem .9rem; cursor: pointer; }
kbd { background: #eee; border-radius: .2rem; padding: 0 .3rem; }
#status { margin-top: 2rem; font-size: .95rem; color: #444; }
table { border-collapse: collapse; } td, th { padding: .15rem .6rem; text-align: right; }
#error { color: #b00; }
</style></head><body>
<h1>Label the tweet</h1>
<div id="tweet" data-row=""></div>
<div id="guess"></div>
<div id="buttons">__BUTTONS__
<button id="skip"><kbd>s</kbd> skip</button>
<button id="undo"><kbd>u</kbd> undo</button></div>
<div id="error"></div>
<div id="status"></div>
<script>
const KEYS = __KEYS__, TOKEN = __TOKEN__;
let current = null, busy = false;
function show(t) {
  current = t;
  const box = document.getElementById("tweet"), guess = document.getElementById("guess");
  if (!t) { box.textContent = "Every tweet of the pool is answered."; box.dataset.row = "";
            guess.textContent = ""; return; }
  box.textContent = t.text; box.dataset.row = t.row;
  guess.textContent = t.guess && t.guess.label
    ? "model's guess: " + t.guess.label + " (" + Math.round(100 * t.guess.p) + "%)" : "";
}
async function call(path, body) {
  if (busy) return; busy = true;
  try {
    const r = await fetch(path, {method: "POST", body: JSON.stringify(body || {}),
      headers: {"Content-Type": "application/json", "X-Label-Token": TOKEN}});
    const data = await r.json();
    if (!r.ok) { document.getElementById("error").textContent = data.error; return; }
    document.getElementById("error").textContent = ""; show(data); status();
  } finally { busy = false; }
}
function answer(label) { if (current) call("/api/answer", {row: current.row, label: label}); }
function skip() { if (current) call("/api/skip", {row: current.row}); }
function undo() { call("/api/undo"); }
document.addEventListener("keydown", e => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (KEYS[e.key]) answer(KEYS[e.key]);
  else if (e.key === "s") skip();
  else if (e.key === "u" || e.key === "Backspace") { e.preventDefault(); undo(); }
});
document.querySelectorAll("button.label").forEach(b =>
  b.addEventListener("click", () => answer(b.dataset.label)));
document.getElementById("skip").addEventListener("click", skip);
document.getElementById("undo").addEventListener("click", undo);
async function status() {
  const s = await (await fetch("/api/status")).json();
  const counts = Object.entries(s.counts).map(([k, v]) => k + " " + v).join(", ");
  let rows = s.rounds.filter(r => r.cross_validated).map(r =>
    "<tr><td>" + r.answers + "</td><td>" + r.cross_validated.accuracy.toFixed(3) +
    "</td><td>" + r.cross_validated.macro_f1.toFixed(3) + "</td></tr>").join("");
  const el = document.getElementById("status");
  el.innerHTML = "";
  const p = document.createElement("p");
  p.textContent = s.answered + " answered (" + counts + "), " + s.skipped + " skipped, of " +
    s.pool + " in the pool; saved in " + s.file + ". Model: " + (s.model || "none yet") +
    (s.retraining ? " (retraining...)" : "; next retrain at " + s.next_retrain_at + " answers");
  el.appendChild(p);
  if (rows) {
    const t = document.createElement("div");
    t.innerHTML = "<p>Cross-validated on the answers so far (the loop picks hard tweets: " +
      "a pessimistic estimate)</p><table><tr><th>answers</th><th>accuracy</th>" +
      "<th>macro-F1</th></tr>" + rows + "</table>";
    el.appendChild(t);
  }
  if (s.stopped_helping) {
    const d = document.createElement("p");
    d.textContent = "More labels stopped helping at " + s.stopped_helping.answers +
      " answers (macro-F1 " + s.stopped_helping.macro_f1.toFixed(3) + ").";
    el.appendChild(d);
  }
}
fetch("/api/next").then(r => r.json()).then(show);
status(); setInterval(status, 3000);
</script></body></html>
"""
