"""experiment exploding: without clipping the applied gradient explodes; with it, not."""

import json

from sentiment_cli.cli import cli


def test_exploding_setting_without_and_with_clipping(runner, tmp_path):
    args = ["experiment", "exploding", "--radius", "4", "--length", "20", "--steps", "20"]
    result = runner.invoke(cli, [*args, "-f", "json", "--report-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    unclipped, clipped = json.loads(result.stdout)["runs"]
    assert unclipped["clipnorm"] is None and clipped["clipnorm"] == 1.0
    assert unclipped["non_finite_step"] is not None or unclipped["max_applied_norm"] > 1e3
    assert unclipped["exploded"]
    assert clipped["non_finite_step"] is None
    assert clipped["max_applied_norm"] <= 1.0 + 1e-4
    assert not clipped["exploded"]
    # Both start from the same weights: the first gradient is the same, before clipping.
    assert clipped["grad_norm"][0] == unclipped["grad_norm"][0]
    assert len(clipped["loss"]) == 20
    assert (tmp_path / "exploding.png").stat().st_size > 10_000
