"""The chat as a person uses it: headless Chromium pages against a real uvicorn process.

Needs Debian's chromium (``apt-get install chromium``) and playwright (``pip install
playwright``), which drives it; no browser is ever downloaded. The screenshot lands in
test-artifacts/chat.png, and also in docs/chat.png with UPDATE_SCREENSHOT=1.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..support.browser import ARGS, CHROMIUM
from ..support.servers import ROOT, running

pytestmark = pytest.mark.server

TIMEOUT_MS = 10_000

if TYPE_CHECKING:
    from playwright.sync_api import CDPSession


#: How long a member stays after its page is gone, for it to come back (the demo's default is 12 s).
GRACE = {"CHAT_GRACE": "1"}


@pytest.fixture(scope="module")
def page_url() -> Iterator[str]:
    with running("uvicorn-websockets", "examples.chat.app:app", env=GRACE) as url:
        yield url.replace("ws://", "http://") + "/"


def crash(tab: CDPSession) -> None:
    """Crash the tab's renderer; Chromium never answers that command, so do not wait long for it."""
    from playwright.sync_api import Error

    try:
        tab.send("Page.crash", timeout=500)
    except Error:
        pass


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: apt-get install chromium")
def test_people_chat_in_the_browser_and_see_each_other_leave(page_url: str, tmp_path: Path) -> None:
    pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright")
    from playwright.sync_api import expect, sync_playwright

    assert CHROMIUM is not None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 900, "height": 560},
        )
        try:
            pages = {}
            for already_in, nick in enumerate(("ann", "bob", "cid")):
                page = pages[nick] = browser.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                page.goto(page_url)
                expect(page.locator("#protocol")).to_have_text("not connected")
                expect(page.locator("#stats")).to_have_text(f"{already_in} user{'' if already_in == 1 else 's'} online")
                page.fill("#nick", nick)
                page.click("#join button")
                expect(page.locator("#protocol")).to_have_text("chat.v2")
                expect(page.locator("#log")).to_contain_text(f"you joined as {nick}")
                expect(page.locator("#users li.me")).to_have_text(nick)
            ann, bob, cid = pages["ann"], pages["bob"], pages["cid"]

            expect(ann.locator("#log")).to_contain_text("bob joined")
            ann.fill("#text", "hello bob")
            ann.press("#text", "Enter")
            heard = bob.locator("#log li.message").last
            expect(heard.locator(".nick")).to_have_text("ann")
            expect(heard).to_contain_text("hello bob")
            expect(heard.locator("time")).to_have_count(1)  # chat.v2 messages carry a timestamp
            bob.fill("#text", "hi ann, see you at 9")
            bob.click("#say button")
            expect(ann.locator("#log li.message .nick")).to_have_text(["ann", "bob"])
            expect(ann.locator("#log li.message").last).to_contain_text("hi ann, see you at 9")
            expect(ann.locator("#users li")).to_have_text(["ann", "bob", "cid"])
            expect(ann.locator("#stats")).to_have_text("3 users online")

            crash(browser.new_cdp_session(cid))  # a tab that dies without closing its socket
            expect(ann.locator("#log")).to_contain_text("cid left")
            bob.close()
            expect(ann.locator("#log")).to_contain_text("bob left")
            expect(ann.locator("#users li")).to_have_text(["ann"])
            expect(ann.locator("#stats")).to_have_text("1 user online")
            expect(ann.locator("#protocol")).to_have_text("chat.v2")

            artifacts = ROOT / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            ann.screenshot(path=str(artifacts / "chat.png"))
            if os.environ.get("UPDATE_SCREENSHOT") == "1":
                shutil.copyfile(artifacts / "chat.png", ROOT / "docs" / "chat.png")
        finally:
            browser.close()


OPENS = """url => new Promise(resolve => {
    const socket = new WebSocket(url, ["chat.v2", "chat.v1"]);
    socket.onopen = () => { socket.close(); resolve("open"); };
    socket.onerror = () => resolve("refused");
    setTimeout(() => resolve("no answer"), 5000);
})"""


@pytest.fixture(scope="module")
def other_page_url() -> Iterator[str]:
    """A second chat server: a page served from another port is another origin."""
    with running("uvicorn-websockets", "examples.chat.app:app") as url:
        yield url.replace("ws://", "http://") + "/"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: apt-get install chromium")
def test_a_page_from_another_port_cannot_join_the_chat(page_url: str, other_page_url: str, tmp_path: Path) -> None:
    pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright")
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None
    chat_socket = page_url.replace("http://", "ws://") + "ws"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
        )
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(other_page_url)
            assert page.evaluate(OPENS, chat_socket) == "refused"
            page.goto(page_url)
            assert page.evaluate(OPENS, chat_socket) == "open"
        finally:
            browser.close()


@pytest.fixture(scope="module", params=["redis", "redis-cluster"])
def two_processes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """Two chat processes sharing one redis-server, or a Redis Cluster (each given another node of it)."""
    from ..support.chat_processes import chat_process
    from ..support.redis_cluster import RedisCluster
    from ..support.redis_server import redis_server

    env = {"CHAT_NAMESPACE": f"browsers-{request.param}", **GRACE}
    if request.param == "redis-cluster":
        cluster: RedisCluster = request.getfixturevalue("redis_cluster")
        first_node, second_node = (f"redis://127.0.0.1:{node.port}" for node in cluster.nodes[:2])
        with (
            chat_process(redis_cluster=first_node, env=env) as first,
            chat_process(redis_cluster=second_node, env=env) as second,
        ):
            yield first.page, second.page
        return
    with (
        redis_server(tmp_path_factory.mktemp("redis")) as redis,
        chat_process(redis=redis.url, env=env) as first,
        chat_process(redis=redis.url, env=env) as second,
    ):
        yield first.page, second.page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: apt-get install chromium")
def test_pages_on_two_processes_are_one_room_with_its_history(two_processes: tuple[str, str], tmp_path: Path) -> None:
    pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright")
    from playwright.sync_api import expect, sync_playwright

    assert CHROMIUM is not None
    first_page, second_page = two_processes
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
        )
        try:
            pages = {}
            for nick, url in (("ann", first_page), ("bob", second_page)):
                page = pages[nick] = browser.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                page.goto(url)
                page.fill("#nick", nick)
                page.click("#join button")
                expect(page.locator("#log")).to_contain_text(f"you joined as {nick}")
            ann, bob = pages["ann"], pages["bob"]
            expect(ann.locator("#users li")).to_have_text(["ann", "bob"])
            expect(bob.locator("#users li")).to_have_text(["ann", "bob"])
            ann.fill("#text", "from the first process")
            ann.press("#text", "Enter")
            expect(bob.locator("#log li.message")).to_have_count(1)  # published before bob's, on any process
            bob.fill("#text", "from the second one")
            bob.press("#text", "Enter")
            for page in (ann, bob):
                expect(page.locator("#log li.message")).to_have_count(2)
            # One order, whichever process a page is on.
            assert ann.locator("#log li.message").all_inner_texts() == bob.locator("#log li.message").all_inner_texts()

            cid = browser.new_page()  # joins late, on the first process: the room's history comes first
            cid.set_default_timeout(TIMEOUT_MS)
            cid.goto(first_page)
            cid.fill("#nick", "cid")
            cid.click("#join button")
            expect(cid.locator("#log li.message")).to_have_count(2)
            expect(cid.locator("#log li.message").last).to_contain_text("from the second one")
            expect(bob.locator("#users li")).to_have_text(["ann", "bob", "cid"])
            expect(cid.locator("#stats")).to_have_text("3 users online")
        finally:
            browser.close()


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed: apt-get install chromium")
def test_the_asyncapi_page_shows_the_chats_protocol_from_this_server_only(page_url: str) -> None:
    pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright")
    from playwright.sync_api import expect, sync_playwright

    assert CHROMIUM is not None
    requested: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.on("request", lambda request: requested.append(request.url))
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(page_url + "asyncapi")
            expect(page.locator("#asyncapi")).to_contain_text("simple_websocket chat", timeout=3 * TIMEOUT_MS)
            for shown in ("ws.chat.v2.receive", "ws.chat.v1.send", "Welcome", "SaidV1", "What clients send in chat.v2"):
                expect(page.locator("#asyncapi")).to_contain_text(shown)
            expect(page.locator("#failed")).to_be_hidden()
            artifacts = ROOT / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            page.screenshot(path=str(artifacts / "asyncapi.png"))
        finally:
            browser.close()
    assert errors == []
    origin = page_url.rstrip("/")
    assert requested and all(url.startswith(origin + "/") or url.startswith("data:") for url in requested), requested
    assert {url.removeprefix(origin) for url in requested} >= {
        "/asyncapi",
        "/asyncapi/default.min.css",
        "/asyncapi/standalone.js",
        "/asyncapi.json",
    }
