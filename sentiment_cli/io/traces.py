"""A trace (the prediction after every word) as a table or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from sentiment_cli.io.atomic import atomic_output
from sentiment_cli.io.tables import bold, console, short
from sentiment_cli.io.tables import table as plain_table
from sentiment_cli.io.writers import json_text

GATE_HEADERS = {
    "forget": "f̄",
    "input": "ī",
    "output": "ō",
    "cell_norm": "‖C‖",
    "update": "z̄",
    "reset": "r̄",
    "state_norm": "‖h‖",
}


def write_traces(
    labels: list[str], traces: list[dict], fmt: str, output: Path | None, gates: bool
) -> None:
    with atomic_output(output) as handle:
        if fmt == "json":
            payload = traces[0] if len(traces) == 1 else traces
            handle.write(json_text(payload, indent=2) + "\n")
            return
        for result in traces:
            print_trace(labels, result, gates, handle)


def print_trace(labels: list[str], result: dict, gates: bool, file: IO[str] | None = None) -> None:
    """One row per word: the label probabilities if the tweet ended there (the most
    likely in bold), then the mean gate values of the last recurrent layer."""
    from rich import box
    from rich.text import Text

    out = console(file)
    out.print(bold(short(result["text"], 76)))
    table = plain_table(
        ["t", "word", *labels],
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=(0, 1),
        left=0,
        show_edge=True,
    )
    table.columns[1].justify, table.columns[1].max_width = "left", 14
    table.columns[1].overflow, table.columns[1].no_wrap = "ellipsis", True
    gate_keys: list[str] = []
    if gates and result["steps"]:
        last = result["steps"][0]["gates"][-1]
        gate_keys = [k for k in last if k not in ("layer", "cell", "per_unit")]
        for key in gate_keys:
            table.add_column(GATE_HEADERS.get(key, key), justify="right")
    for step in result["steps"]:
        token = step.get("word") or step["token"]
        token += ("¬" if step.get("negated") else "") + ("*" if step["oov"] else "")
        probs = [
            Text(f"{step['probabilities'][lab]:.2f}", style="bold" if lab == step["label"] else "")
            for lab in labels
        ]
        row = [str(step["position"] + 1), token, *probs]
        if gate_keys:
            row += [f"{step['gates'][-1][k]:.2f}" for k in gate_keys]
        table.add_row(*row)
    out.print(table)
    notes = [f"final: {result['final']['label']}"]
    if "network_final" in result and not result["final"]["baseline_weight"]:
        notes.append("the network alone answers a negation or a contrast (no blend)")
    elif "network_final" in result:
        notes.append(
            f"blended with the bag-of-words baseline (weight "
            f"{result['final']['baseline_weight']:.1f}); the network alone: "
            f"{result['network_final']['label']}"
        )
    if any(step.get("negated") for step in result["steps"]):
        notes.append("¬ in a negation's scope")
    if any(step["oov"] for step in result["steps"]):
        notes.append("* out of vocabulary")
    if result["cut"]:
        notes.append(f"cut at max_length: {' '.join(result['cut'])}")
    if gate_keys:
        layer = result["steps"][0]["gates"][-1]
        names = ", ".join(f"{GATE_HEADERS.get(k, k)} {k.replace('_', ' ')}" for k in gate_keys)
        notes.append(f"{layer['cell']} layer '{layer['layer']}', means over units: {names}")
    out.print("; ".join(notes))
