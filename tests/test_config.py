from pathlib import Path

import pytest

from sentiment_cli.config import (
    CONFIG_DIR,
    Config,
    build_config,
    load_config,
    parse_override,
    read_yaml,
)
from sentiment_cli.errors import SentimentError


def test_default_config_is_lstm_yaml_and_matches_dataclass_defaults():
    # Installed without the configs/ folder, the dataclass defaults must say the same.
    assert load_config(None) == build_config(read_yaml(CONFIG_DIR / "lstm.yaml"), "x") == Config()


@pytest.mark.parametrize(
    "name,cell,bidirectional",
    [
        ("simple_rnn.yaml", "simple_rnn", False),
        ("lstm.yaml", "lstm", False),
        ("gru.yaml", "gru", False),
        ("bilstm.yaml", "lstm", True),
    ],
)
def test_shipped_configs_load(name, cell, bidirectional):
    config = load_config(CONFIG_DIR / name)
    assert config.model.cell == cell
    assert config.model.bidirectional is bidirectional


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_config_differs_from_the_default_only_where_it_says(path):
    # A config states only what differs: a restated default would drift silently.
    stated = read_yaml(path) or {}
    loaded, default = load_config(path).to_dict(), Config().to_dict()
    for section, values in default.items():
        for key, value in values.items():
            if key in (stated.get(section) or {}):
                assert loaded[section][key] == stated[section][key]
                if path.name != "lstm.yaml":  # the fully commented reference
                    assert stated[section][key] != value, f"{path.name} restates {section}.{key}"
            else:
                assert loaded[section][key] == value, f"{path.name}: {section}.{key}"


@pytest.mark.parametrize(
    "override,section,key,expected",
    [
        ("model.units=128", "model", "units", 128),
        ("model.cell=gru", "model", "cell", "gru"),
        ("model.bidirectional=true", "model", "bidirectional", True),
        ("model.dropout=0", "model", "dropout", 0.0),
        ("train.learning_rate=3e-4", "train", "learning_rate", 0.0003),
        ("train.clipnorm=null", "train", "clipnorm", None),
        ("text.padding=pre", "text", "padding", "pre"),
        (
            "model.recurrent_initializer={class_name: Orthogonal, config: {gain: 2.0}}",
            "model",
            "recurrent_initializer",
            {"class_name": "Orthogonal", "config": {"gain": 2.0}},
        ),
        ("model.kernel_initializer=zeros", "model", "kernel_initializer", "zeros"),
    ],
)
def test_valid_overrides(override, section, key, expected):
    config = load_config(None, [override])
    assert getattr(getattr(config, section), key) == expected


@pytest.mark.parametrize(
    "override,message",
    [
        ("model.units", "--set 'model.units': expected KEY=VALUE, e.g. --set model.units=64"),
        ("units=3", "the key must be SECTION.KEY"),
        ("model.unitz=3", "unknown key 'model.unitz' (did you mean 'units'?)"),
        ("modle.units=3", "unknown section 'modle' (did you mean 'model'?)"),
        ("model.units=many", "--set: model.units must be an integer, got 'many'"),
        ("model.units=2.5", "--set: model.units must be an integer, got 2.5"),
        ("model.units=0", "--set: model.units must be in [1, 65536], got 0"),
        ("model.dropout=1", "--set: model.dropout must be in [0, 1), got 1.0"),
        ("model.subwords=-1", "--set: model.subwords must be in [0, 10000000], got -1"),
        ("text.max_length=0", "--set: text.max_length must be in [1, 10000], got 0"),
        (
            "model.cell=transformer",
            "--set: model.cell must be one of 'simple_rnn', 'lstm', 'gru', got 'transformer'",
        ),
        ("model.bidirectional=yes please", "model.bidirectional must be true or false"),
        ("train.class_weight=auto", "train.class_weight must be one of 'none', 'sqrt', 'balanced'"),
        ("model.kernel_initializer={gain: 1}", "model.kernel_initializer must be a Keras"),
    ],
)
def test_invalid_overrides(override, message):
    with pytest.raises(SentimentError) as info:
        load_config(None, [override])
    assert message in str(info.value)


def test_unknown_key_in_file_names_file_key_and_suggestion(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model:\n  unit: 3\n")
    with pytest.raises(SentimentError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message
    assert "unknown key 'model.unit' (did you mean 'units'?)" in message


def test_wrong_type_in_file(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  epochs: ten\n")
    with pytest.raises(SentimentError, match=r"train.epochs must be an integer, got 'ten'"):
        load_config(path)


def test_python_object_tags_are_refused(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("model: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(SentimentError) as info:
        load_config(path)
    assert str(info.value) == (
        f"config file {str(path)!r}, line 1: the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system' is refused: configs are plain "
        "YAML, tags that construct Python objects are not loaded"
    )


def test_malformed_yaml_names_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model:\n  units: [1, 2\n")
    with pytest.raises(SentimentError, match=r"is not valid YAML at line \d+"):
        load_config(path)


def test_missing_config_file():
    with pytest.raises(SentimentError, match="config file 'nope.yaml' does not exist"):
        load_config(Path("nope.yaml"))


def test_parse_override_value_is_yaml():
    assert parse_override("model.units=32") == (["model", "units"], 32)
    assert parse_override("model.embeddings_file=a=b.txt") == (
        ["model", "embeddings_file"],
        "a=b.txt",
    )
