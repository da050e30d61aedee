"""The page in a real headless Chromium: spirals, two hidden layers, play, the test loss falls."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
THRESHOLD = 0.1  # test loss of the spirals; a 2-8-8-3 tanh net with Adam gets there in a few seconds here

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"),
    pytest.mark.slow,
]


def test_spirals_train_live_in_the_browser(server, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.goto(server.url)
            page.wait_for_function("document.querySelector('#stepn').textContent === '0' && "
                                   "document.querySelector('#testloss').textContent !== '–'")
            page.select_option("#dataset", "xor")
            page.wait_for_function("document.querySelectorAll('#layers .layer').length > 0")
            while page.text_content("#nlayers") != "0":
                page.click("#layer_minus")
            page.click("#layer_plus")
            page.click("#layer_plus")
            page.select_option("#dataset", "spirals")
            page.wait_for_function("document.querySelectorAll('#layers .layer').length === 4")  # in, 2 hidden, out
            assert page.text_content("#nlayers") == "2"
            start = float(page.text_content("#testloss"))
            assert start > THRESHOLD  # an untrained net is far from it
            before = page.evaluate("document.querySelector('#boundary').toDataURL()")
            page.click("#play")
            page.wait_for_function(f"parseFloat(document.querySelector('#testloss').textContent) < {THRESHOLD}",
                                   timeout=20_000)
            page.click("#play")  # pause
            after = page.evaluate("document.querySelector('#boundary').toDataURL()")
            assert after != before
            assert int(page.text_content("#stepn")) > 0
            assert page.locator("#hists canvas").count() == 2
            page.select_option("#lang", "zh")
            assert page.text_content("#play") == "开始"
            shot = tmp_path / "playground.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 10_000
            if os.environ.get("FCNET_PLAYGROUND_SCREENSHOT"):
                page.select_option("#lang", "en")
                page.screenshot(path=os.environ["FCNET_PLAYGROUND_SCREENSHOT"])
        finally:
            browser.close()
    assert problems == []
