"""Headless Debian Chromium for the tests that look at a page as a person would.

The test setup installs Debian's `chromium` when it is missing (CI machines start without it);
Playwright drives it through `executable_path`, so no browser is downloaded from elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# the flags the machine needs: its network is closed, and Chromium phones home at start
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")  # pages and screenshots in Chinese


def ensure_chromium() -> Path:
    missing = [
        p for p, path in (("chromium", CHROMIUM), ("fonts-wqy-microhei", FONT)) if not path.exists()
    ]
    if not missing:
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail(f"Debian's {', '.join(missing)} are needed and apt-get is not here")
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, apt, "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(
        [*prefix, apt, "install", "-y", "-qq", *missing], check=True, env=env, capture_output=True
    )
    return CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A Playwright Browser on Debian's Chromium, headless. Per module: Playwright's sync API
    keeps an event loop running in the thread while it lives, which later tests' asyncio.run
    would trip over."""
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=FLAGS
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
async def async_browser() -> AsyncIterator[Any]:
    """The same, for async tests (Playwright's sync API refuses to run inside an event loop)."""
    from playwright.async_api import async_playwright

    executable = ensure_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=FLAGS
        )
        try:
            yield launched
        finally:
            await launched.close()
