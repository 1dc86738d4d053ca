"""The chat as a person uses it: two headless Chromium pages against a real uvicorn process.

Needs Debian's chromium (``apt-get install chromium``); playwright drives it, never downloading
a browser of its own. The screenshot lands in test-artifacts/chat.png (and docs/chat.png with
UPDATE_SCREENSHOT=1).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..servers import ROOT, running

pytestmark = pytest.mark.server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    with running("uvicorn-websockets", "examples.chat.app:app") as url:
        yield url.replace("ws://", "http://") + "/"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: apt-get install chromium")
def test_two_people_chat_in_the_browser(page_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert CHROMIUM is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 900, "height": 560},
        )
        try:
            ann = browser.new_page()
            bob = browser.new_page()
            for page, nick in ((ann, "ann"), (bob, "bob")):
                page.set_default_timeout(TIMEOUT_MS)
                page.goto(page_url)
                page.fill("#nick", nick)
                page.click("#join button")
                expect(page.locator("#protocol")).to_have_text("chat.v2")
                expect(page.locator("#log")).to_contain_text(f"you joined as {nick}")

            expect(ann.locator("#log")).to_contain_text("bob joined")
            ann.fill("#text", "hello bob")
            ann.press("#text", "Enter")
            expect(bob.locator("#log li.message")).to_contain_text(["annhello bob"])
            bob.fill("#text", "hi ann, see you at 9")
            bob.click("#say button")
            expect(ann.locator("#log li.message").last).to_contain_text("hi ann, see you at 9")
            expect(ann.locator("#users li")).to_have_text(["ann", "bob"])
            expect(ann.locator("#stats")).to_contain_text("2 users · 2 messages relayed")

            bob.close()
            expect(ann.locator("#log")).to_contain_text("bob left")
            expect(ann.locator("#users li")).to_have_text(["ann"])

            artifacts = ROOT / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            ann.screenshot(path=str(artifacts / "chat.png"))
            if os.environ.get("UPDATE_SCREENSHOT") == "1":
                shutil.copyfile(artifacts / "chat.png", ROOT / "docs" / "chat.png")
        finally:
            browser.close()
