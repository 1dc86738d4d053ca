"""Downstream users run pyright too: the package must verify at 100% type completeness."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def test_pyright_verifytypes_is_complete() -> None:
    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent))
    if pyright is None:
        pytest.fail("pyright is not installed in this environment: pip install -e '.[dev]'")
    # The interpreter's directory first on PATH, so that pyright finds this installed package
    # rather than typeshed's stubs for the unrelated simple-websocket project of the same name.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    result = subprocess.run(
        [pyright, "--verifytypes", "simple_websocket"], capture_output=True, text=True, env=env, timeout=300
    )
    assert 'Package directory: "' in result.stdout and "typeshed" not in result.stdout, result.stdout
    score = re.search(r"Type completeness score: ([\d.]+)%", result.stdout)
    assert score is not None, result.stdout + result.stderr
    assert float(score[1]) == 100.0, result.stdout
    assert result.returncode == 0, result.stdout
