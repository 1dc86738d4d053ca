"""The k6 load scenario of bench/load.py, run small: it counts what it should, and errors when it should."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.load import SCENARIOS, run_k6

from ..support.servers import running

pytestmark = [pytest.mark.server, pytest.mark.soak]

SMALL = {"VUS": "10", "RAMP": "1s", "HOLD": "2s", "MESSAGES": "10"}


def test_the_echo_scenario_counts_sessions_messages_and_latency_for_both_apps(tmp_path: Path) -> None:
    scenario = SCENARIOS["echo"]
    with running("uvicorn-websockets", scenario.app) as base:
        for name, path in scenario.paths.items():
            result = run_k6(scenario.script, base + path, tmp_path / "summary.json", SMALL, timeout=120)
            assert result.errors == 0, name
            assert result.sessions > 10 and result.messages == result.sessions * 10, name
            assert 0 <= result.p95 <= result.p99, name


def test_the_echo_scenario_counts_sessions_the_server_cuts_short_as_errors(tmp_path: Path) -> None:
    """The soak app's /limited closes with 1009 on a message over 1,024 bytes: every session fails."""
    with running("uvicorn-websockets", "tests.support.soak_app:app") as base:
        result = run_k6("echo.js", base + "/limited", tmp_path / "summary.json", {**SMALL, "SIZE": "2000"}, timeout=120)
    assert result.errors > 10 and result.sessions == 0 and result.messages == 0
