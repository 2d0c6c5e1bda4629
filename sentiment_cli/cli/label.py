"""sentiment-cli label: label the tweets that teach most, on a local page."""

from __future__ import annotations

from pathlib import Path

import click

from sentiment_cli.cli.options import handle_errors, say


@click.command()
@click.argument("pool", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The answers: a CSV (text, label, and for the audit the pool row, the model's "
    "suggestion, the time), each row on disk before the next tweet shows. Run the same "
    "command again to resume.",
)
@click.option(
    "--labels",
    default="negative,neutral,positive",
    show_default=True,
    help="The labels to choose from, comma-separated; keys 1-9 answer them in this order.",
)
@click.option("--text-column", default="text", show_default=True, help="POOL's text column.")
@click.option("--label-column", default="label", show_default=True,
              help="With --simulate: POOL's column of answers.")  # fmt: skip
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; the default keeps the page on this machine.")  # fmt: skip
@click.option("--retrain-every", type=click.IntRange(5, 10_000), default=25, show_default=True,
              help="Answers between two retrains (each in the background).")  # fmt: skip
@click.option("--folds", type=click.IntRange(0, 10), default=3, show_default=True,
              help="Cross-validation folds for the page's estimate after each retrain "
              "(0: none; each fold is a training).")  # fmt: skip
@click.option("--choose", type=click.Choice(["loop", "random"]), default="loop", show_default=True,
              help="loop: the tweets the current model is least sure of, a fifth at random; "
              "random: in random order. Both offer near-duplicates once and keep the retrains "
              "(docs/label.md: what the loop measured against random).")  # fmt: skip
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--simulate", is_flag=True,
              help="No page: answer with POOL's label column and write the --budget rows "
              "the loop chose, in the order it asked for them.")  # fmt: skip
@click.option("--budget", type=click.IntRange(1, None), default=None,
              help="With --simulate: how many tweets to choose.")  # fmt: skip
@click.option("--force", is_flag=True, help="With --simulate: replace --output.")
@handle_errors
def label(pool, output, labels, text_column, label_column, port, host, retrain_every, folds,
          choose, seed, simulate, budget, force):  # fmt: skip
    """Label tweets of POOL (a CSV's text column, Parquet, or one tweet per line), the
    one that teaches most first.

    A page on http://HOST:PORT shows one tweet at a time with the model's guess; keys
    1-9 (or a click) answer, s skips, u undoes. The next tweets are those the current
    model is least sure of, with no run of near-duplicates, plus a fifth drawn at
    random (--choose random: all in random order). Every --retrain-every answers a
    model is retrained on all of them in the background and chooses from then on; the
    page shows the answers per label, each retrain's cross-validated accuracy and
    macro-F1, and when more labels stopped helping. The models are kept in OUTPUT's
    folder, as OUTPUT_STEM.models/round-N.

    \b
    Example:
        sentiment-cli label unlabelled.csv -o labelled.csv
        sentiment-cli label tweets.txt -o labelled.csv --labels negative,positive
        sentiment-cli label unlabelled.csv -o labelled.csv --choose random
        sentiment-cli label labelled_pool.csv -o chosen.csv --simulate --budget 300
        sentiment-cli train labelled.csv -o runs/mine
    """
    from sentiment_cli.labelling.pool import read_pool

    if simulate:
        run_simulation(pool, output, text_column, label_column, retrain_every, seed, budget,
                       force, choose == "random")  # fmt: skip
        return
    if budget is not None:
        raise click.UsageError("--budget goes with --simulate")
    names = parse_labels(labels)
    data = read_pool(pool, text_column)
    serve_session(data, output, names, host, port, retrain_every, folds, seed,
                  choose == "random")  # fmt: skip


def parse_labels(text: str) -> list[str]:
    from sentiment_cli.errors import SentimentError

    names = [name.strip() for name in text.split(",") if name.strip()]
    if len(names) < 2 or len(set(names)) != len(names):
        raise SentimentError(
            f"--labels {text!r}: give two or more distinct labels, comma-separated"
        )
    return names


def run_simulation(pool, output, text_column, label_column, every, seed, budget, force, at_random):
    import tempfile

    from sentiment_cli.errors import SentimentError
    from sentiment_cli.io.atomic import atomic_output
    from sentiment_cli.labelling.pool import read_pool
    from sentiment_cli.labelling.simulate import simulate

    if budget is None:
        raise click.UsageError("--simulate needs --budget N")
    if output.exists() and not force:
        raise SentimentError(f"--output {output} exists; --force replaces it")
    data = read_pool(pool, text_column, label_column)
    with tempfile.TemporaryDirectory(prefix="label-simulate-") as work:
        chosen = simulate(data, budget, seed, every, Path(work), say, at_random=at_random)
    import csv

    with atomic_output(output) as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "pool_row"])
        writer.writerows((data.texts[row], data.labels[row], row) for row in chosen)
    say(f"{len(chosen)} tweets chosen, written to {output}")


def serve_session(data, output, names, host, port, every, folds, seed, at_random):
    from sentiment_cli.labelling.answers import Answers
    from sentiment_cli.labelling.page import make_server
    from sentiment_cli.labelling.session import Session

    answers = Answers.open(output, names)
    if answers.answers:
        say(f"Resuming: {len(answers.answers)} answers in {output}")
    models = output.with_name(output.stem + ".models")
    models.mkdir(parents=True, exist_ok=True)
    session = Session(data, answers, seed, every, models, say, folds, at_random)
    try:
        server = make_server(session, host, port)
    except OSError as exc:
        from sentiment_cli.errors import SentimentError

        raise SentimentError(
            f"--port {port}: cannot listen on {host}:{port} ({exc.strerror})"
        ) from None
    say(f"Labelling {len(data):,} tweets of {data.path}: open http://{host}:{server.server_port}/ "
        f"(Ctrl-C ends; every answer is already in {output})")  # fmt: skip
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        say(f"Stopped: {len(answers.answers)} answers in {output}")
    finally:
        server.server_close()
