"""Debian's Chromium for the browser tests (never a Playwright download) and axe-core."""

from __future__ import annotations

from pathlib import Path

from tests.integration.stack import REPO

CHROMIUM = Path("/usr/bin/chromium")
AXE = REPO / "var" / "node" / "node_modules" / "axe-core" / "axe.min.js"
# Headless Chromium as root here needs these. Playwright's own launch gives every browser a
# fresh temporary profile (--user-data-dir).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
