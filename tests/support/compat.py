"""The compatibility table, generated from the tests marked ``compat(kind, name)``.

``python -m tests.support.compat`` prints it; ``python -m tests.support.compat --write`` puts it into
docs/compatibility.md and README.md between the ``compat:begin``/``compat:end`` comments.
A test that carries the marker proves the integration; a module-level ``QUIRKS`` dict in the
test module (name -> set of descriptions) fills the "differences" column.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARGETS = [ROOT / "docs" / "compatibility.md", ROOT / "README.md"]
BEGIN, END = "<!-- compat:begin (python -m tests.support.compat --write) -->", "<!-- compat:end -->"
KINDS = ["server", "framework", "test client"]


@dataclass
class Row:
    kind: str
    name: str
    tests: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    quirks: set[str] = field(default_factory=set)


class Collector:
    """A pytest plugin that gathers the compat markers of every collected test."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], Row] = {}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            for marker in item.iter_markers("compat"):
                kind, name = marker.args
                if kind not in KINDS:
                    raise ValueError(f"{item.nodeid}: compat kind must be one of {KINDS}, not {kind!r}")
                row = self.rows.setdefault((kind, name), Row(kind, name))
                row.tests.add(item.nodeid.split("[")[0])
                row.files.add(item.nodeid.split("::")[0])
                quirks = getattr(item.module, "QUIRKS", {}) if isinstance(item, pytest.Function) else {}
                row.quirks |= set(quirks.get(name, ()))


def collect() -> list[Row]:
    collector = Collector()
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        arguments = ["--collect-only", "-qq", "-p", "no:cacheprovider", str(ROOT / "tests")]
        code = pytest.main(arguments, plugins=[collector])
    if code != 0:
        raise SystemExit(f"collecting the tests failed ({code}):\n{output.getvalue()}")
    return sorted(collector.rows.values(), key=lambda row: (KINDS.index(row.kind), row.name.lower()))


def table(rows: list[Row]) -> str:
    lines = [
        "| | Tested | Tests | Known limits, asserted by the tests |",
        "|---|---|---:|---|",
    ]
    for row in rows:
        files = ", ".join(f"`{name}`" for name in sorted(row.files))
        quirks = "; ".join(sorted(row.quirks)) or "none"
        lines.append(f"| {row.kind} | **{row.name}** ({files}) | {len(row.tests)} | {quirks} |")
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError("no compat:begin/compat:end block")
    return pattern.sub(lambda _: f"{BEGIN}\n{block}\n{END}", text)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.support.compat", description=__doc__)
    parser.add_argument("--write", action="store_true", help="update docs/compatibility.md and README.md")
    write: bool = parser.parse_args().write
    block = table(collect())
    if not write:
        print(block)
        return
    for path in TARGETS:
        path.write_text(replace_block(path.read_text(encoding="utf-8"), block), encoding="utf-8")
        print(f"updated {path.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
