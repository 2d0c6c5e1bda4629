"""sentiment-cli serve: a JSON API and a page to try a model."""

from __future__ import annotations

import click

from sentiment_cli.cli.options import handle_errors, model_dir_option, say


@click.command()
@model_dir_option()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@handle_errors
def serve(model_dir, host, port):
    """Serve a model over HTTP: a JSON API and a page to try it (the [serve] extra).

    \b
    POST /predict  {"texts": [...], "trace": false, "min_confidence": null}: what
                   predict --format json prints; "trace": true adds the prediction
                   after every word; "min_confidence": P answers "uncertain" below P
    GET  /health   {"status": "ok", "model": ..., "labels": [...]}
    GET  /         a page: type a tweet, see its label, probabilities and trace

    At most 1000 texts and 1 MB per request; a bad request gets a 4xx answer with
    {"error": ...}. Listens on 127.0.0.1 unless --host says otherwise. Without
    --model-dir, the built-in model is served.

    \b
    Example:
        sentiment-cli serve
        sentiment-cli serve --model-dir runs/lstm --port 8080
        curl -d '{"texts": ["not bad at all"]}' localhost:8080/predict
    """
    from sentiment_cli.extras import require

    require("serve", "serve", "starlette", "uvicorn")
    from sentiment_cli.runtime.model_folder import check_model_dir
    from sentiment_cli.serving.server import serve as run_server

    check_model_dir(model_dir)
    say(f"Serving {model_dir} on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    run_server(model_dir, host, port)
