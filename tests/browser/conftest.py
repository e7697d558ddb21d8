"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright against Django's live server.

Screenshots go to test-artifacts/screenshots/ (git-ignored). Without Chromium the tests are skipped with a
loud reason, except under REQUIRE_SERVICES=1 (CI), where a missing browser is an error.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls in fixtures are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PASSWORD = "MatKhau@Test2026"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs the Debian package")
        pytest.skip(f"*** Chromium not found at {CHROMIUM}: browser tests skipped (apt-get install chromium) ***")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="vi-VN", viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login():
    """login(page, user) signs in through the real login form."""

    def sign_in(page, user, password: str = PASSWORD):
        page.goto("/dang-nhap/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "/dang-nhap/" not in page.url, f"login failed for {user.username}"
        return page

    return sign_in


@pytest.fixture
def shot(request):
    """shot(page, name) saves a full-page screenshot as a test artifact and returns its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{request.node.name}-{name}")
        path = ARTIFACTS / f"{safe}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
