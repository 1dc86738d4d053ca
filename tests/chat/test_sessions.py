"""Pages that come back: the chat's pages in Chromium through crashes, network cuts and Redis faults.

Real parts only: ``python -m examples.chat`` processes sharing a real redis-server, Chromium pages
driven by Playwright (Debian's chromium, never a download), and a TCP proxy in front of the
processes (tests/support/chat_proxy.py) that spreads pages over them and cuts the network when
told. Each fault test counts the messages sent and, per page, shown, lost, duplicated, and the
gaps it reported; ``pytest -s`` prints them, and test-artifacts/chat-sessions.txt keeps them.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..support.browser import ARGS, CHROMIUM
from ..support.chat_processes import ChatProcess, chat_process
from ..support.chat_proxy import SpreadingProxy, spreading_proxy
from ..support.redis_server import RedisServer, redis_server
from ..support.servers import ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = pytest.mark.server

#: How long one expectation on a page may take (ms); comebacks after a long cut wait longer.
TIMEOUT_MS = 10_000
#: The pages' backoff reaches 8 s after four failed attempts: a page back after a long cut may
#: take that long, plus its jitter, to try again.
COMEBACK_MS = 25_000
#: A chat process answers for its members this long (s): the others reap them soon after a kill.
PRESENCE_TTL = "1.5"
ARTIFACT = ROOT / "test-artifacts" / "chat-sessions.txt"


@contextmanager
def two_behind_one_address(
    redis: RedisServer, env: dict[str, str]
) -> Iterator[tuple[ChatProcess, ChatProcess, SpreadingProxy]]:
    """Two chat processes sharing ``redis``, and the proxy that spreads pages over them."""
    with (
        chat_process(redis=redis.url, env=env) as first,
        chat_process(redis=redis.url, env=env) as second,
        spreading_proxy([first.port, second.port]) as proxy,
    ):
        yield first, second, proxy


def room_env(name: str, **more: str) -> dict[str, str]:
    """A room of its own (its keys under their own prefix in the shared redis-server)."""
    return {"CHAT_NAMESPACE": f"sessions-{name}", "CHAT_PRESENCE_TTL": PRESENCE_TTL, **more}


def tally_label(name: str, seconds: float) -> str:
    return f"{name} ({seconds:.1f} s)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        pytest.skip("chromium not installed: apt-get install chromium")
    pytest.importorskip("playwright.sync_api", reason="playwright not installed: pip install playwright")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with redis_server(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def fresh_artifact() -> None:
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text("")


class Person:
    """One person's page, in a browser context of its own (its own connections and sessionStorage)."""

    def __init__(self, browser: Browser, url: str, nick: str) -> None:
        self.nick = nick
        self.context = browser.new_context()
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.goto(url)
        self.page.fill("#nick", nick)
        self.page.click("#join button")
        from playwright.sync_api import expect

        expect(self.log).to_contain_text(f"you joined as {nick}")

    @property
    def log(self) -> Locator:
        return self.page.locator("#log")

    def lines(self, kind: str) -> Locator:
        """The log's lines of one kind: message, system, error, gap, away, reconnected."""
        return self.page.locator(f"#log li.{kind}")

    def say(self, text: str) -> None:
        """Type and send a message; the field empties only once it went out on an open connection."""
        from playwright.sync_api import expect

        self.page.fill("#text", text)
        self.page.press("#text", "Enter")
        expect(self.page.locator("#text")).to_have_value("")

    def messages(self) -> list[str]:
        """The texts of the messages shown, in the order shown."""
        texts: list[str] = self.lines("message").evaluate_all(
            "lines => lines.map(line => line.lastElementChild.textContent)"
        )
        return texts

    def notes(self) -> list[str]:
        """Every line but the messages: joins, leaves, disconnections, comebacks, gaps."""
        notes: list[str] = self.page.locator("#log li:not(.message)").all_inner_texts()
        return notes

    def users(self) -> list[str]:
        users: list[str] = self.page.locator("#users li").evaluate_all("items => items.map(item => item.textContent)")
        return users

    def wait_for_messages(self, count: int, timeout: float = TIMEOUT_MS) -> None:
        from playwright.sync_api import expect

        expect(self.lines("message")).to_have_count(count, timeout=timeout)

    def close(self) -> None:
        self.context.close()


class Pages:
    """The pages a test opens: every one is closed when the test ends, however it ends."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.people: list[Person] = []

    def open(self, url: str, nick: str) -> Person:
        person = Person(self.browser, url, nick)
        self.people.append(person)
        return person


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    opened = Pages(browser)
    try:
        yield opened
    finally:
        for person in opened.people:
            person.close()


def tally(test: str, sent: Sequence[str], people: Sequence[Person]) -> dict[str, dict[str, int]]:
    """Per page: messages sent (by anyone), shown, lost (sent, never shown), duplicated (shown more
    than once), foreign (shown, never sent in this test: an old one again) and gaps reported."""
    counts: dict[str, dict[str, int]] = {}
    report: list[str] = []
    for person in people:
        shown = person.messages()
        seen = Counter(shown)
        counts[person.nick] = numbers = {
            "sent": len(sent),
            "shown": len(shown),
            "lost": sum(1 for text in sent if text not in seen),
            "duplicated": sum(times - 1 for times in seen.values()),
            "foreign": sum(times for text, times in seen.items() if text not in sent),
            "gaps": person.lines("gap").count(),
        }
        report.append(f"{test}: {person.nick}: " + ", ".join(f"{key} {value}" for key, value in numbers.items()))
        report.append(f"{test}: {person.nick} shows: " + " | ".join(person.notes()))
    print("\n" + "\n".join(report))
    with ARTIFACT.open("a") as artifact:
        artifact.write("\n".join(report) + "\n")
    return counts


def joined_one_room(people: Sequence[Person]) -> None:
    from playwright.sync_api import expect

    everyone = sorted(person.nick for person in people)
    for person in people:
        expect(person.page.locator("#users li")).to_have_text(everyone)


def test_a_page_whose_process_is_killed_comes_back_on_the_other_one_under_its_nickname(
    pages: Pages, redis: RedisServer
) -> None:
    """(a) Two processes behind one address; the one serving dan and bob is killed (SIGKILL)
    while ann and cid keep talking on the other."""
    from playwright.sync_api import expect

    env = room_env("kill", CHAT_GRACE="3")
    with two_behind_one_address(redis, env) as (_, second, proxy):
        for index, nick in ((0, "ann"), (0, "cid"), (1, "bob"), (1, "dan")):
            proxy.pin(index)  # the page and its WebSocket go to that process
            pages.open(proxy.page, nick)
        proxy.pin(None)
        people = pages.people
        ann, cid, bob, dan = people
        joined_one_room(people)
        sent: list[str] = []
        for number in range(3):
            text = f"before {number}"
            (ann, cid)[number % 2].say(text)
            sent.append(text)
        for person in people:
            person.wait_for_messages(len(sent))

        second.kill()
        for number in range(6):  # at once, while bob and dan are away
            text = f"meanwhile {number}"
            (ann, cid)[number % 2].say(text)
            sent.append(text)
        for person in (bob, dan):
            expect(person.lines("reconnected")).to_have_count(1)
            expect(person.lines("away")).to_have_count(1)
        for number in range(4):  # once they are back
            text = f"back {number}"
            (ann, cid)[number % 2].say(text)
            sent.append(text)
        time.sleep(float(PRESENCE_TTL) * 2)  # the dead process's members would be reaped by now
        ann.say("after")
        sent.append("after")
        for person in people:
            person.wait_for_messages(len(sent))
        counts = tally("kill", sent, people)

        order = ann.messages()
        assert sorted(order) == sorted(sent)
        for person in people:
            assert person.messages() == order, f"{person.nick} saw another order"
            assert counts[person.nick] == {**counts["ann"], "gaps": 0}
        for person in (ann, cid):
            expect(person.lines("away")).to_have_count(0)  # their process never went away
            notes = person.notes()
            for nick in ("bob", "dan"):
                assert f"{nick} left" not in " ".join(notes), f"{person.nick} saw {nick} leave"
                assert notes.count(f"{nick} joined") <= 1, f"{person.nick} saw {nick} join again"
        for person in people:
            expect(person.page.locator("#users li")).to_have_text(["ann", "bob", "cid", "dan"])
        expect(dan.page.locator("#users li.me")).to_have_text("dan")
        assert proxy.connections >= 6


def test_pages_cut_off_by_the_network_come_back_and_miss_nothing(pages: Pages, redis: RedisServer) -> None:
    """(b) The network between the pages and both processes fails: every connection reset, new
    ones refused, for 2 s (less than the grace period), then for longer than it."""
    from playwright.sync_api import expect

    grace = 5.0
    env = room_env("cut", CHAT_GRACE=str(grace))
    with two_behind_one_address(redis, env) as (first, _, proxy):
        ann = pages.open(first.page, "ann")  # on the process itself: never cut off
        bob = pages.open(proxy.page, "bob")
        dan = pages.open(proxy.page, "dan")
        people = pages.people
        joined_one_room(people)
        sent: list[str] = []

        def say(text: str) -> None:
            ann.say(text)
            sent.append(text)

        say("before the cut")
        for person in people:
            person.wait_for_messages(len(sent))

        proxy.cut()  # shorter than the grace period
        cut = time.monotonic()
        for number in range(5):
            say(f"short cut {number}")
        time.sleep(max(0.0, 2.0 - (time.monotonic() - cut)))
        proxy.restore()
        short_cut = time.monotonic() - cut
        for person in (bob, dan):
            expect(person.lines("reconnected")).to_have_count(1)
            person.wait_for_messages(len(sent))
        short = tally(tally_label("network cut shorter than the grace period", short_cut), sent, people)
        for nick in ("bob", "dan"):
            assert f"{nick} left" not in " ".join(ann.notes()), "the others saw a short cut"

        proxy.cut()  # longer than the grace period: the others see bob and dan leave
        cut = time.monotonic()
        for number in range(5):
            say(f"long cut {number}")
        expect(ann.log).to_contain_text("bob left", timeout=int(grace * 1000) + TIMEOUT_MS)
        expect(ann.log).to_contain_text("dan left", timeout=TIMEOUT_MS)
        say("after they left")
        proxy.restore()
        long_cut = time.monotonic() - cut
        for person in (bob, dan):
            expect(person.lines("reconnected")).to_have_count(2, timeout=COMEBACK_MS)
            person.wait_for_messages(len(sent))
        expect(ann.log).to_contain_text("bob joined")
        expect(ann.log).to_contain_text("dan joined")
        say("all back")
        for person in people:
            person.wait_for_messages(len(sent))
        long = tally(tally_label(f"network cut longer than the grace period of {grace:.0f} s", long_cut), sent, people)
        for person in people:
            assert person.messages() == sent, f"{person.nick} lost, repeated or reordered messages"
            expect(person.page.locator("#users li")).to_have_text(["ann", "bob", "dan"])
        for counts in (short, long):
            assert all(page["lost"] == page["duplicated"] == page["gaps"] == 0 for page in counts.values())
        for person in (bob, dan):
            expect(person.lines("away")).to_have_count(2)  # one line per outage, not per attempt


def test_a_page_back_after_the_retention_window_is_told_once_and_goes_on_live(pages: Pages, redis: RedisServer) -> None:
    """(d) A page offline while more messages are said than the room keeps (CHAT_RETENTION)."""
    from playwright.sync_api import expect

    retention = 20
    env = room_env("retention", CHAT_RETENTION=str(retention), CHAT_GRACE="12")
    with chat_process(redis=redis.url, env=env) as chat, spreading_proxy([chat.port]) as proxy:
        ann = pages.open(chat.page, "ann")
        dan = pages.open(proxy.page, "dan")
        people = pages.people
        sent: list[str] = []

        def say(text: str) -> None:
            ann.say(text)
            sent.append(text)

        say("before")
        dan.wait_for_messages(1)
        proxy.cut()
        offline = retention + 10
        for number in range(offline):
            say(f"while dan is offline {number}")
        ann.wait_for_messages(len(sent))
        proxy.restore()
        expect(dan.lines("reconnected")).to_have_text(["reconnected: some messages were lost"])
        for number in range(3):
            say(f"live {number}")
        dan.wait_for_messages(1 + 3)
        counts = tally("retention", sent, people)
        assert dan.messages() == ["before", "live 0", "live 1", "live 2"]
        assert counts["dan"] == {
            "sent": 1 + offline + 3,
            "shown": 4,
            "lost": offline,
            "duplicated": 0,
            "foreign": 0,
            "gaps": 1,
        }
        assert "dan left" not in " ".join(ann.notes())


def test_a_page_refused_stops_trying_and_says_why(pages: Pages, redis: RedisServer) -> None:
    """Final closes: a nickname someone else took while the page was away (4409), and a
    handshake refused while the page's own server answers (as an Origin refusal)."""
    from playwright.sync_api import expect

    env = room_env("refused", CHAT_GRACE="0.5")
    with chat_process(redis=redis.url, env=env) as chat, spreading_proxy([chat.port]) as proxy:
        ann = pages.open(chat.page, "ann")
        dan = pages.open(proxy.page, "dan")
        proxy.cut()
        expect(ann.log).to_contain_text("dan left")
        pages.open(chat.page, "dan")  # someone else is dan now
        proxy.restore()
        expect(dan.log).to_contain_text("disconnected (4409: nickname taken)", timeout=COMEBACK_MS)
        expect(dan.page.locator("#join")).to_be_visible()
        expect(dan.page.locator("#protocol")).to_have_text("not connected")
        tried = proxy.connections
        time.sleep(2.0)  # longer than the first backoff steps: nothing more is tried
        assert proxy.connections == tried

        proxy.refuse_websockets = True
        dan.page.fill("#nick", "dan-again")
        dan.page.click("#join button")
        expect(dan.log).to_contain_text("refused by the server")
        expect(dan.page.locator("#join")).to_be_visible()
        tried = proxy.connections
        time.sleep(2.0)
        assert proxy.connections == tried
        assert dan.lines("away").count() == 1  # the cut; never "reconnecting" after a refusal


def wipe(directory: Path) -> None:
    """Everything redis-server keeps on disk: its append-only files."""
    for path in directory.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def test_redis_restarted_on_its_files_loses_nothing_and_wiped_is_one_gap_per_page(pages: Pages, tmp_path: Path) -> None:
    """(c) redis-server killed (SIGKILL) and restarted on its append-only file; then killed and
    restarted with its data gone."""
    from playwright.sync_api import expect

    # The demo's own presence TTL: a Redis restart of a second or two is no reason to reap anyone.
    env = room_env("redis", CHAT_GRACE="6", CHAT_PRESENCE_TTL="6")
    with (
        redis_server(tmp_path) as redis,
        chat_process(redis=redis.url, env=env) as first,
        chat_process(redis=redis.url, env=env) as second,
    ):
        ann = pages.open(first.page, "ann")
        bob = pages.open(second.page, "bob")
        people = pages.people
        joined_one_room(people)
        sent: list[str] = []

        def say(person: Person, text: str) -> None:
            person.say(text)
            sent.append(text)

        for number in range(2):
            say(ann, f"before the crash {number}")
            say(bob, f"before the crash, bob {number}")
        redis.kill()
        down = time.monotonic()
        for number in range(2):  # published once Redis is back (within the publish timeout)
            say(ann, f"while redis is down {number}")
            say(bob, f"while redis is down, bob {number}")
        time.sleep(max(0.0, 1.0 - (time.monotonic() - down)))
        redis.start()
        down = time.monotonic() - down
        for person in people:
            person.wait_for_messages(len(sent))
        say(ann, "after the restart")
        for person in people:
            person.wait_for_messages(len(sent))
        restart = tally(tally_label("redis-server killed, restarted on its AOF", down), sent, people)
        assert all(page["lost"] == page["duplicated"] == page["gaps"] == 0 for page in restart.values())
        assert ann.messages() == bob.messages()
        assert not [note for person in people for note in person.notes() if "left" in note]

        before_wipe = len(sent)
        redis.kill()
        down = time.monotonic()
        wipe(redis.directory)
        redis.start()
        down = time.monotonic() - down
        for person in people:
            expect(person.lines("gap")).to_have_text(["some messages were lost"], timeout=TIMEOUT_MS)
        # Each process joins its members again once it notices: the lists come right.
        joined_one_room(people)
        for number in range(3):
            say(ann, f"after the wipe {number}")
            say(bob, f"after the wipe, bob {number}")
        for person in people:
            person.wait_for_messages(len(sent))
        wiped = tally(tally_label("redis-server killed, restarted with its data wiped", down), sent, people)
        for person in people:
            shown = person.messages()
            assert shown[:before_wipe] == ann.messages()[:before_wipe]
            assert sorted(shown[before_wipe:]) == sorted(sent[before_wipe:]), "an old message came again"
            expect(person.lines("gap")).to_have_count(1)
        assert all(page["lost"] == page["duplicated"] == page["foreign"] == 0 for page in wiped.values())
        assert all(page["gaps"] == 1 for page in wiped.values())
        for person in people:
            expect(person.page.locator("#users li")).to_have_text(["ann", "bob"])
