"""The portal in a real headless Chromium (the DevTools client of tests/browser): a clerk logs in, uploads
a file with errors, reads the findings, uploads the corrected file, forces one with a 上报说明, and sees the
calendar change; a second clerk sees none of it; the province sees the board. No console error, no
request outside the portal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from fixtures.ingest_support import ingest
from portal_support import add_users, households_with_errors, relocations_with_warning, served_portal

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "browser"))
from cdp import chromium, chromium_binary  # noqa: E402  (the DevTools client, a module, not a conftest)

pytestmark = [pytest.mark.browser]


class Tab:
    """One page in a browser context of its own (its own cookies: one signed-in person)."""

    def __init__(self, browser, base: str):
        self.browser, self.base = browser, base
        context = browser.send("Target.createBrowserContext")["browserContextId"]
        target = browser.send("Target.createTarget", {"url": "about:blank", "browserContextId": context})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network", "DOM"):
            browser.send(f"{domain}.enable", session=self.session)
        self.requests: list[str] = []
        self.errors: list[str] = []

    def _collect(self) -> None:
        events, self.browser._events[:] = list(self.browser._events), []
        for event in events:
            if event.get("sessionId") not in (None, self.session):
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                self.requests.append(params["request"]["url"])
            elif method == "Runtime.exceptionThrown":
                self.errors.append(json.dumps(params, ensure_ascii=False)[:300])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                self.errors.append(json.dumps(params, ensure_ascii=False)[:300])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                # an HTTP error status the test asked for on purpose (403/404) is logged by Chromium as a
                # network error; everything else counts
                if not (entry.get("source") == "network" and any(f" {c} " in entry.get("text", "") + " "
                                                                for c in ("403", "404"))):
                    self.errors.append(json.dumps(entry, ensure_ascii=False)[:300])

    def _loaded(self) -> None:
        self.browser.wait_for("Page.loadEventFired", timeout=180)
        self.browser.drain(0.3)
        self._collect()

    def go(self, path: str) -> str:
        self.browser._events.clear()
        self.browser.send("Page.navigate", {"url": self.base + path}, session=self.session)
        self._loaded()
        return self.text()

    def js(self, expression: str):
        return self.browser.evaluate(self.session, expression)

    def text(self) -> str:
        return self.js("document.body.innerText")

    def click(self, element_id: str) -> str:
        self.browser._events.clear()
        self.js(f"document.getElementById({json.dumps(element_id)}).click()")
        self._loaded()
        return self.text()

    def fill(self, element_id: str, value: str) -> None:
        self.js(f"document.getElementById({json.dumps(element_id)}).value = {json.dumps(value)}")

    def choose_file(self, path: Path) -> None:
        root = self.browser.send("DOM.getDocument", session=self.session)["root"]["nodeId"]
        node = self.browser.send("DOM.querySelector", {"nodeId": root, "selector": "#file"}, session=self.session)
        self.browser.send("DOM.setFileInputFiles", {"files": [str(path)], "nodeId": node["nodeId"]},
                          session=self.session)

    def login(self, username: str, password: str) -> str:
        self.go("/login")
        self.fill("username", username)
        self.fill("password", password)
        return self.click("login")

    def upload(self, path: Path) -> str:
        self.go("/upload")
        self.choose_file(path)
        return self.click("check")

    def state(self, template: str, year: int) -> str | None:
        return self.js(f"(() => {{ const r = document.querySelector('#calendar tr[data-template=\"{template}\"]"
                       f"[data-year=\"{year}\"]'); return r ? r.dataset.state : null; }})()")


def test_a_clerks_day_in_chromium(empty_warehouse, tmp_path):
    if chromium_binary() is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (CI's .ci/run does)")
    cfg = empty_warehouse
    passwords = add_users(cfg)
    bad = households_with_errors(tmp_path / "bad" / "330803_households_2014.xlsx")
    good = households_with_errors(tmp_path / "good" / "330803_households_2014.xlsx", bad=False)
    warned = relocations_with_warning(tmp_path / "330803_relocations_2014.csv")
    with served_portal() as base, chromium() as browser:
        clerk = Tab(browser, base)
        assert "报送日历" in clerk.login("clerk1", passwords["clerk1"])
        page = clerk.upload(bad)
        findings = clerk.js("[...document.querySelectorAll('#findings tbody tr')].map(r => "
                            "[...r.children].map(c => c.textContent))")
        assert [f[0] for f in findings] == ["4", "6"]
        assert "劳动力人数不能大于家庭人口" in page and "退回该行" in page
        assert clerk.js("document.getElementById('year').textContent") == "2014"
        clerk.click("withdraw")

        page = clerk.upload(good)
        assert "没有发现问题" in page
        clerk.click("submit")
        clerk.go("/calendar")
        assert clerk.state("households", 2014) == "submitted"

        page = clerk.upload(warned)
        assert "提示 warn" in page
        clerk.fill("explanation", "该户经县政府批准增加补助")
        clerk.js("document.getElementById('force').checked = true")
        page = clerk.click("submit")
        assert "提示（已说明）" in page and "已上报" in page

        ingest(cfg)   # the night
        clerk.go("/calendar")
        assert clerk.state("households", 2014) == "accepted"
        assert clerk.state("relocations", 2014) == "accepted"

        other = Tab(browser, base)
        other.login("clerk2", passwords["clerk2"])
        seen = other.go("/calendar")
        assert "330803" not in seen and "衢江区" not in seen
        assert other.state("households", 2014) == "overdue"   # 331127 sent nothing
        assert "403" in other.go("/calendar?county=330803")

        province = Tab(browser, base)
        province.login("prov", passwords["prov"])
        board = province.go("/board")
        assert "报送看板" in board and "衢江区" in board and "逾期" in board

        for tab in (clerk, other, province):
            assert tab.errors == [], tab.errors
            outside = [u for u in tab.requests if not u.startswith(base + "/") and not u.startswith(("data:", "about:"))]
            assert outside == [], outside
