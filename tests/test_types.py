"""Pin the public types: run mypy over reveal_type lines and compare with what each line states."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

CASES = Path(__file__).parent / "typing_cases"
ROOT = Path(__file__).parent.parent
EXPECTED = re.compile(r"#\s*R:\s*(?P<type>.+?)\s*$")
REVEALED = re.compile(r":(?P<line>\d+): note: Revealed type is \"(?P<type>.+)\"$")


@pytest.mark.parametrize("case", sorted(CASES.glob("*.py")), ids=lambda path: path.stem)
def test_revealed_types(case: Path) -> None:
    expected = {
        number: match["type"]
        for number, line in enumerate(case.read_text().splitlines(), start=1)
        if (match := EXPECTED.search(line))
    }
    stdout, stderr, _ = api.run(["--config-file", str(ROOT / "mypy.ini"), "--no-incremental", str(case)])
    revealed = {int(m["line"]): m["type"] for line in stdout.splitlines() if (m := REVEALED.search(line))}
    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert not errors, "\n".join(errors) + stderr
    assert expected
    assert revealed == expected
