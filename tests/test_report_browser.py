"""report.html in headless Chromium (Debian's chromium + chromedriver, driven by selenium): with
the network switched off it renders, logs no console error, loads no resource at all, and a
1280 px wide screenshot shows the headline figures.

Browser tests skip when Chromium is missing locally, and fail under CI (CI=true), where .ci/run
installs it.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from audit.policy import Policy
from reports.data import load_run
from reports.render import render_report
from tests.test_reports import synthetic_run

pytestmark = pytest.mark.browser


def require(*tools: str) -> None:
    """Skip locally, fail under CI, when a system tool the test needs is missing."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        message = f"missing system tools: {', '.join(missing)} (Debian: chromium chromium-driver poppler-utils)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def png_ink(data: bytes) -> tuple[int, int, float]:
    """(width, height, share of pixels that are not near-white) of an 8-bit RGB(A)/grey PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0, "only 8-bit, non-interlaced PNGs"
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    inked = 0
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        colour_channels = min(channels, 3) if channels != 2 else 1
        for x in range(0, stride, channels):
            if min(line[x:x + colour_channels]) < 200:
                inked += 1
        previous = line
    return width, height, inked / (width * height)


#: how many lines the text of given columns of a table takes, cell by cell
LABEL_LINES = """
const [where, columns] = arguments;  // a heading's text (the table after it) or a CSS selector
const heading = [...document.querySelectorAll('h2, h3')].find(h => h.textContent.trim() === where);
const table = heading ? heading.nextElementSibling : document.querySelector(where);
if (!table || table.tagName !== 'TABLE') return [];
const lines = [];
for (const row of table.tBodies[0].rows) {
  for (const i of columns) {
    const range = document.createRange();
    range.selectNodeContents(row.cells[i]);
    const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
    lines.push(tops.size);
  }
}
return lines;
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("chromium", "chromedriver")
    path = synthetic_run(tmp_path_factory.mktemp("browser") / "2024-06")
    html = path / "report.html"
    html.write_text(render_report(load_run(path), Policy.load()), encoding="utf-8")  # the PDF is test_pdf's
    return html


def test_report_renders_offline_without_errors_and_shows_headline(report: Path, tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--window-size=1280,900",
                f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver") or ""))
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        driver.get(report.as_uri())
        assert driver.execute_script("return document.readyState") == "complete"
        assert driver.title.startswith("就业见习补贴资金审计报告")
        # nothing fetched: styles, charts and data are all inline
        assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
        errors = [e for e in driver.get_log("browser") if e.get("level") in ("SEVERE", "ERROR")]
        assert errors == []
        money = driver.find_element(By.ID, "h-money")
        assert money.text == "2,960.00" and money.is_displayed()
        assert driver.find_element(By.ID, "h-findings").text == "10"
        rect = driver.execute_script("return document.getElementById('headline').getBoundingClientRect().toJSON()")
        assert rect["right"] <= 1280 and rect["top"] < 900  # in the first screen at 1280 px
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 1280  # no sideways scroll
        assert len(driver.find_elements(By.CSS_SELECTOR, "svg rect.bar")) >= 2
        # the per-rule table's short labels (类别, 风险) on one line each, not a character a line
        lines = driver.execute_script(LABEL_LINES, "分规则统计", [1, 2])
        assert lines and all(n == 1 for n in lines), lines
        # and a parameter's date and source (2023-08-16, 本省)
        lines = driver.execute_script(LABEL_LINES, "#params ~ table", [4, 5])
        assert 1 in lines and set(lines) <= {0, 1}, lines  # 0: a parameter left unset has neither
        # and a detection threshold's unit (个月, 名见习人员/每名职工)
        lines = driver.execute_script(LABEL_LINES, "#detection ~ table", [2])
        assert lines and all(n == 1 for n in lines), lines
        shot = driver.get_screenshot_as_png()
    finally:
        driver.quit()
    width, _, ink = png_ink(shot)
    assert width == 1280
    assert 0.01 < ink < 0.9, f"screenshot looks blank or solid (ink {ink:.3f})"
