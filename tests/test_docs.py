"""Every Python example in the README and docs/ is an excerpt of a tested file under examples/.

A ```python block starts with a ``# examples/<file>.py`` line naming its source; the lines after
it must appear, in order and unbroken, in that file, and some test must import or run that file.
"""

from __future__ import annotations

import re

import pytest

from .support.compat import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
SOURCE = re.compile(r"# (examples/[\w/]+\.py)\n")
TESTS = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "tests").rglob("*.py"))


def blocks() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for number, match in enumerate(BLOCK.finditer(doc.read_text(encoding="utf-8")), 1):
            found.append((f"{doc.relative_to(ROOT)}#{number}", match.group(1)))
    return found


def is_excerpt(lines: list[str], source: list[str]) -> bool:
    return any(source[start : start + len(lines)] == lines for start in range(len(source) - len(lines) + 1))


def is_tested(path: str) -> bool:
    module = path.removesuffix(".py").replace("/", ".")
    parent, _, name = module.rpartition(".")
    return module in TESTS or re.search(rf"from {re.escape(parent)} import [^\n]*\b{name}\b", TESTS) is not None


@pytest.mark.parametrize(("where", "code"), blocks(), ids=[where for where, _ in blocks()])
def test_example_is_an_excerpt_of_a_tested_file(where: str, code: str) -> None:
    source = SOURCE.match(code)
    assert source, f"{where}: start the block with '# examples/<file>.py'"
    path = source.group(1)
    lines = [line.rstrip() for line in code[source.end() :].splitlines()]
    file_lines = [line.rstrip() for line in (ROOT / path).read_text(encoding="utf-8").splitlines()]
    assert is_excerpt(lines, file_lines), f"{where} differs from {path}"
    assert is_tested(path), f"no test imports or runs {path}"


def test_the_docs_have_examples() -> None:
    assert len(blocks()) >= 5
