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


def ensure_chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail("Debian's chromium is needed and apt-get is not here to install it")
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*prefix, apt, "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(
        [*prefix, apt, "install", "-y", "-qq", "chromium"], check=True, env=env, capture_output=True
    )
    return CHROMIUM


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A Playwright Browser on Debian's Chromium, headless."""
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


@pytest.fixture(scope="session")
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
