"""Node and the npm project examples/chat/web: the chat page's types, its type check, AsyncAPI.

Needs node and npm on PATH (Debian: ``apt-get install nodejs npm``; ``./dev test`` installs them);
without them every helper here fails the test with that advice rather than skip it. ``npm_ci()``
installs the locked packages once for every test and process (a file lock: POSIX only).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from .servers import ROOT

#: The npm project: package.json, package-lock.json, the scripts and, once installed, node_modules.
WEB_DIR = ROOT / "examples" / "chat" / "web"
#: What the chat demo serves as files: the page, its script and the generated protocol.d.ts.
STATIC_DIR = ROOT / "examples" / "chat" / "static"
#: Written after a successful ``npm ci``; older than package-lock.json means install again. ./dev
#: uses the same file, and ``npm ci`` deletes it along with the rest of node_modules.
STAMP = WEB_DIR / "node_modules" / ".npm-ci-stamp"
#: The TypeScript compiler's entry point, run with node (no npx: nothing is looked up or fetched).
TSC = WEB_DIR / "node_modules" / "typescript" / "bin" / "tsc"
#: ``npm ci`` downloads about 260 packages (50 MB) the first time: allow for a slow registry.
NPM_CI_TIMEOUT = 600.0

INSTALL_NODE = (
    "node and npm are needed (Node 20 or newer): apt-get install nodejs npm (Debian), "
    "or run ./dev test, which installs them"
)


def node() -> str:
    """The path of node, or fail the test saying how to install it."""
    path = shutil.which("node")
    if path is None or shutil.which("npm") is None:
        pytest.fail(INSTALL_NODE, pytrace=False)
    return path


def _installed() -> bool:
    lock = WEB_DIR / "package-lock.json"
    return STAMP.exists() and STAMP.stat().st_mtime >= lock.stat().st_mtime


def npm_ci() -> None:
    """Install examples/chat/web's locked packages unless they are installed already.

    Safe to call from every test, and from several processes at once: the first one installs
    while the others wait for it, then find the stamp fresh.
    """
    node()
    if _installed():
        return
    npm = shutil.which("npm")
    assert npm is not None  # node() checked
    # In the temporary directory rather than in the checkout: nothing to ignore or clean up.
    lock_path = Path(tempfile.gettempdir()) / f"simple-websocket-npm-ci-{os.getuid()}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed():  # another process installed while this one waited
            return
        try:
            done = subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                cwd=WEB_DIR,
                capture_output=True,
                text=True,
                timeout=NPM_CI_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"npm ci in {WEB_DIR} took longer than {NPM_CI_TIMEOUT:.0f} s", pytrace=False)
        if done.returncode != 0:
            pytest.fail(f"npm ci in {WEB_DIR} failed:\n{done.stdout}\n{done.stderr}", pytrace=False)
        STAMP.touch()


def run_node(
    script: str | Path, *args: str | Path, timeout: float, cwd: Path = WEB_DIR
) -> subprocess.CompletedProcess[str]:
    """Run ``node script args...`` (script relative to WEB_DIR unless absolute) after ``npm_ci()``.

    The result is returned whatever the exit status; a run longer than ``timeout`` seconds fails
    the test with what it printed so far.
    """
    executable = node()
    npm_ci()
    command = [executable, str(WEB_DIR / script), *map(str, args)]
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{' '.join(command)} took longer than {timeout} s:\n{exc.stdout!r}\n{exc.stderr!r}", pytrace=False)


def tsc(project: Path, *, timeout: float) -> subprocess.CompletedProcess[str]:
    """``tsc -p project`` (a tsconfig.json or its directory), output without colours."""
    return run_node(TSC, "-p", project, "--pretty", "false", timeout=timeout)


def protocol_command(command: str, *, timeout: float) -> str:
    """What ``python -m examples.chat.protocol <command>`` prints (it must succeed)."""
    argv = [sys.executable, "-m", "examples.chat.protocol", command]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(argv[1:])} exited with {done.returncode}:\n{done.stderr}", pytrace=False)
    return done.stdout
