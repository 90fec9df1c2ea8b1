"""report.pdf: printed by headless Chromium with a CJK font. Converted to PNG (pdftoppm) it is not
blank; its text (pdftotext) holds the Chinese title and headline, so the CJK glyphs were drawn
from a font that maps them (Chromium embeds Noto CJK as Type 3 glyphs with a ToUnicode map);
no full 身份证号 is in it. Skips locally without Chromium/poppler, fails under CI.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from reports import render_run
from tests.test_report_browser import png_ink, require
from tests.test_reports import synthetic_run

pytestmark = pytest.mark.browser
FULL_ID = re.compile(r"\d{17}[\dX]")


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require("chromium", "pdftoppm", "pdftotext")
    path = synthetic_run(tmp_path_factory.mktemp("pdf") / "2024-06")
    status = render_run(path)
    assert status["report_pdf"] is True, status["pdf_note"]
    return path / "report.pdf"


def test_pdf_first_page_is_not_blank(pdf: Path, tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    page = next(tmp_path.glob("page*.png"))
    width, height, ink = png_ink(page.read_bytes())
    assert height > width  # A4 portrait
    assert 0.005 < ink < 0.9, f"page 1 looks blank or solid (ink {ink:.3f})"


def test_pdf_has_cjk_text_and_no_full_id(pdf: Path) -> None:
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    assert "就业见习补贴资金审计报告" in text and "涉及金额" in text and "2,960.00" in text
    assert not FULL_ID.findall(text.replace(" ", ""))

