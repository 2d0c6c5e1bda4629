"""The layout holds: import-linter's contracts pass and catch a wrong import, the docs'
module map names every module, and no module or function outgrows one idea."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "sentiment_cli"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "encoders" not in p.parts)


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    if not LINT_IMPORTS.exists():
        pytest.skip(f"{LINT_IMPORTS} is missing: pip install 'sentiment-cli[test]'")
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True
    )


def test_import_contracts_pass():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, wrong_import, contract",
    [
        ("runtime/network.py", "import sentiment_cli.training.train", "runtime never imports"),
        ("runtime/predict.py", "import keras", "runtime never imports"),
        ("io/atomic.py", "import sentiment_cli.runtime.predict", "io does not import"),
        ("training/fit.py", "import sentiment_cli.cli", "Nothing imports the CLI"),
        ("config.py", "import sentiment_cli.text.tokenizer", "Low-level modules stay low"),
    ],
)
def test_a_wrong_import_breaks_a_contract(tmp_path, module, wrong_import, contract):
    shutil.copytree(PACKAGE, tmp_path / "sentiment_cli", ignore=shutil.ignore_patterns("encoders"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    target = tmp_path / "sentiment_cli" / module
    target.write_text(target.read_text() + f"\n{wrong_import}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken


def test_the_module_map_names_every_module():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [
        str(p.relative_to(ROOT))
        for p in modules()
        if p.name != "__init__.py" and f"`{p.relative_to(ROOT)}`" not in text
    ]
    assert not missing, f"docs/architecture.md does not name {missing}"


def test_every_sub_package_ships_in_the_wheel():
    import tomllib

    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(packages["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in PACKAGE.rglob("__init__.py")}
    assert found <= listed, f"pyproject.toml's packages lack {sorted(found - listed)}"


def test_modules_and_functions_stay_small():
    too_long = []
    for path in modules():
        source = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        limit = (
            150
            if path.parent.name == "cli" and path.name not in ("options.py", "render.py")
            else 400
        )
        if source.count("\n") > limit:
            too_long.append(f"{name}: {source.count(chr(10))} lines (limit {limit})")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.body[0].lineno + 1
                if length > 60:
                    too_long.append(f"{name}:{node.lineno} {node.name}: {length} lines")
    assert not too_long, too_long
