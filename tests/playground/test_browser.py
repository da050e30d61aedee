"""The page in a real headless Chromium: training live, presets, layouts, links, pacing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

CHROMIUM = Path("/usr/bin/chromium")
THRESHOLD = 0.1  # test loss of the spirals; a 2-8-8-3 tanh net with Adam gets there in a few seconds here
SIZES = [(1024, 768), (1280, 720), (1920, 1080)]

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium"),
    pytest.mark.slow,
]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        try:
            yield b
        finally:
            b.close()


def open_page(browser, url: str, width: int = 1400, height: int = 900, problems: list[str] | None = None):
    page = browser.new_page(viewport={"width": width, "height": height})
    if problems is not None:
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(url)
    page.wait_for_function("document.querySelector('#stepn').textContent === '0' && "
                           "document.querySelector('#testloss').textContent !== '–'")
    return page


def test_spirals_train_live_in_the_browser(server, browser, tmp_path):
    problems: list[str] = []
    page = open_page(browser, server.url, problems=problems)
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
                           timeout=30_000)
    page.click("#play")  # pause
    after = page.evaluate("document.querySelector('#boundary').toDataURL()")
    assert after != before
    assert int(page.text_content("#stepn")) > 0 and float(page.text_content("#epochn")) > 0
    assert page.locator("#hists canvas").count() == 2
    assert page.locator(".inname").all_text_contents() == ["x1", "x2"]  # input labels in the drawing
    curves = page.evaluate("document.querySelector('#curves').toDataURL()")
    page.check("#logscale")
    assert page.evaluate("document.querySelector('#curves').toDataURL()") != curves
    page.hover('#layers canvas[data-layer="2"][data-unit="1"]')  # hovering shows a unit in the big view
    assert "layer 2, unit 2" in page.text_content("#bigtitle")
    page.hover("#curves")
    assert "Decision boundary" in page.text_content("#bigtitle")
    page.click('#layers canvas[data-layer="1"][data-unit="0"]')  # clicking keeps it there
    assert "unit 1" in page.text_content("#bigtitle")
    assert page.evaluate("document.querySelector('#boundary').toDataURL()") != after
    page.click("#boundary")
    assert "Decision boundary" in page.text_content("#bigtitle")
    page.select_option("#lang", "zh")
    assert page.text_content("#play") == "开始"
    shot = tmp_path / "playground.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("FCNET_PLAYGROUND_SCREENSHOT"):
        page.select_option("#lang", "en")
        page.click('#presets button[data-preset="sigmoid-deep"]')
        page.wait_for_function("document.querySelectorAll('#layers .layer').length === 8")
        page.click("#play")
        page.wait_for_timeout(3000)
        page.click("#play")
        page.screenshot(path=os.environ["FCNET_PLAYGROUND_SCREENSHOT"])
    page.close()
    assert problems == []


def overflow_report(page) -> dict:
    """Horizontal overflow of the document, and every visible control outside the page's width."""
    return page.evaluate("""() => {
      const W = document.documentElement.clientWidth, out = [];
      for (const el of document.querySelectorAll('button, input, select, canvas, #claim')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;  // hidden
        if (r.left < -1 || r.right > W + 1) out.push(`${el.id || el.tagName} ${r.left}..${r.right}`);
      }
      return {scroll: document.documentElement.scrollWidth, width: W, outside: out};
    }""")


def test_layout_fits_every_screen_and_the_presenter_mode_a_projector(server, browser, tmp_path):
    page = open_page(browser, server.url, *SIZES[0])
    page.click('#presets button[data-preset="init-xavier"]')  # the largest net: 6 layers of 16
    page.wait_for_function("document.querySelectorAll('#layers .layer').length === 8")
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(100)
        report = overflow_report(page)
        assert report["scroll"] <= report["width"] and report["outside"] == [], (width, report)
        for sel in ("#play", "#speed", "#apply", "#l1", "#regenerate", "#presets button >> nth=-1", "#logscale"):
            el = page.locator(sel)
            el.scroll_into_view_if_needed()
            assert el.is_visible() and el.is_enabled(), (width, sel)  # reachable: scrolled to, shown, usable
        page.screenshot(path=str(tmp_path / f"playground-{width}x{height}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})
    size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#claim')).fontSize)")
    page.click("#presenter")
    assert not page.locator("#controls").is_visible()
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#claim')).fontSize)") >= 1.4 * size
    report = overflow_report(page)
    assert report["scroll"] <= report["width"] and report["outside"] == [], report
    for sel in ("#play", "#speed", "#presets button >> nth=0", "#presenter"):
        assert page.locator(sel).is_visible()
    page.screenshot(path=str(tmp_path / "presenter-1280x720.png"))
    page.close()


def test_each_preset_shows_its_claim_and_slide(server, browser):
    from fcnet.playground.presets import PRESETS

    page = open_page(browser, server.url, 1280, 720)
    for p in PRESETS:
        button = page.locator(f'#presets button[data-preset="{p["id"]}"]')
        assert f"slides {p['slides']}:" in button.text_content()
        button.click()
        page.wait_for_function("document.querySelector('#stepn').textContent === '0' && "
                               f"location.hash.includes({json.dumps(p['id'])})")
        assert page.text_content("#claim") == p["claim"]["en"]
        assert page.input_value("#eps") == "" and page.get_attribute("#eps", "placeholder") == "1e-5"  # δ: default
        judged_at_init = page.text_content("#histtitle").startswith("Activations at step 0")
        assert judged_at_init == (p.get("view") == "init")
    page.close()


def test_a_link_reproduces_the_net_the_data_and_the_seed(server, browser):
    page = open_page(browser, server.url)
    page.select_option("#dataset", "moons")
    page.wait_for_function("location.hash.includes('moons')")
    page.fill("#seed", "7")
    page.press("#seed", "Enter")
    page.wait_for_function("location.hash.includes('seed')")
    page.click("#regenerate")
    page.wait_for_function("location.hash.includes('data_seed')")
    page.fill("#l1", "0.001")
    page.press("#l1", "Enter")
    page.wait_for_function("location.hash.includes('l1')")
    link = page.url
    loss = page.text_content("#testloss")
    other = open_page(browser, link)
    other.wait_for_function(f"document.querySelector('#testloss').textContent === {json.dumps(loss)}")
    assert other.input_value("#dataset") == "moons" and other.input_value("#seed") == "7"
    assert other.url == link
    page.close()
    other.close()


def test_speed_control_slows_training_to_a_pace_one_can_follow(server, browser):
    page = open_page(browser, server.url)
    page.select_option("#speed", "2")
    page.click("#play")
    page.wait_for_timeout(1600)
    page.click("#play")
    steps = int(page.text_content("#stepn"))
    assert 1 <= steps <= 5  # two steps a second, one frame each
    page.close()


def test_a_link_shows_a_claim_only_beside_its_presets_setup_and_garbage_links_load(server, browser):
    from urllib.parse import urlencode

    from fcnet.playground.presets import PRESETS

    def link(setup) -> str:
        return server.url + "#" + urlencode({"setup": setup if isinstance(setup, str) else json.dumps(setup)})

    page = open_page(browser, server.url)
    page.click('#presets button[data-preset="lr-high"]')
    page.wait_for_function("location.hash.includes('lr-high')")
    shared = json.loads(parse_qs(urlsplit(page.url).fragment)["setup"][0])
    page.close()
    claim = next(p for p in PRESETS if p["id"] == "lr-high")["claim"]["en"]
    for setup, lr, shown in ((shared, "6", claim), ({**shared, "lr": 0.01}, "0.01", ""),  # edited: no claim
                             ({**shared, "points": 5}, "0.03", "")):  # refused by the server: the default, no claim
        problems: list[str] = []
        page = open_page(browser, link(setup), problems=problems)
        page.wait_for_function(f"document.querySelector('#lr').value === {json.dumps(lr)}")
        if lr == "0.03":
            page.wait_for_function("document.querySelector('#message').textContent.includes('points')")
        assert page.text_content("#claim") == shown and problems == [], (setup, problems)
        page.close()
    for garbage in ("not json", '{"points": 1e999}', '{"preset": {"a": 1}, "hidden": "x"}'):
        problems = []
        page = open_page(browser, link(garbage), problems=problems)  # loads, trains the default net
        assert page.text_content("#claim") == "" and problems == [], (garbage, problems)
        page.close()
