"""report.pdf: the report HTML printed by headless Chromium (CJK glyphs from the system's Noto CJK
font, which the page's font stack names first).

Chromium is a system package (Debian ``chromium``), not a Python dependency: when it is missing
the run still succeeds, and the report and ``render.json`` say the PDF was not made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 180


def find_chromium() -> str | None:
    """The Chromium binary (``AUDIT_CHROMIUM`` overrides the search), or None."""
    override = os.environ.get("AUDIT_CHROMIUM")
    if override:
        return override if Path(override).exists() or shutil.which(override) else None
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_args(binary: str, user_data_dir: str) -> list[str]:
    """Headless, sandbox-less, no network chatter, no first-run work: what a server can run."""
    return [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-sync", "--disable-extensions", "--mute-audio", f"--user-data-dir={user_data_dir}",
    ]


def print_pdf(html: Path, pdf: Path) -> str | None:
    """Print ``html`` to ``pdf``. Returns None on success, else why no PDF was made (Chinese)."""
    binary = find_chromium()
    if binary is None:
        return "未找到 Chromium（Debian 软件包 chromium），未生成 PDF"
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="audit-chromium-") as profile:
        args = chromium_args(binary, profile) + [
            "--no-pdf-header-footer", f"--print-to-pdf={pdf.resolve()}", html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(args, capture_output=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"Chromium 打印 PDF 失败：{type(exc).__name__}"
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        return f"Chromium 打印 PDF 失败（退出码 {done.returncode}）"
    return None
