"""The settings and confirm pages in a real browser: headless Chromium (Debian's
``chromium`` + ``chromium-driver``) driven by Selenium against bestbot's real web server on
loopback. A person's path: open "Manage your alerts" from a real email, add keywords with
the keyboard, tick regions, choose a weekly digest, save; open "Relevant" under a notice
and press the confirm button. Screenshots at phone (390 px) and desktop width go to
``docs/``. Skips when Chromium is missing, except in CI (``CI=true``), where it fails.

Selenium blocks, and the server runs on this test's event loop, so every browser step runs
in a worker thread (``asyncio.to_thread``).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.app import App, channels
from bot.web.server import build_web_app, start_web
from storage.db import Database
from storage.models import FeedbackRow, ProfileRow, SubscriberRow
from tests.conftest import REPO, require_service
from tests.email.kit import CLOCK, email_config, subscribe
from tests.fakes.smtp import SmtpSink

EDDIE = "eddie@example.org"
DOCS = REPO / "docs"
PHONE, DESKTOP = 390, 1280


def _binaries() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if os.access("/usr/bin/chromedriver", os.X_OK) else None
    )
    return (browser, driver) if browser and driver else None


@pytest.fixture
def browser() -> Iterator[Any]:
    found = _binaries()
    if found is None:
        require_service("chromium and chromium-driver (apt-get install chromium chromium-driver)")
    assert found is not None
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        require_service("selenium (pip install selenium)")
        raise
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={DESKTOP},900",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(arg)
    from selenium.common.exceptions import WebDriverException

    try:
        driver = webdriver.Chrome(service=Service(executable_path=found[1]), options=options)
    except WebDriverException:  # a slow first start on a busy machine: once more
        driver = webdriver.Chrome(service=Service(executable_path=found[1]), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    async with SmtpSink() as sink:
        yield sink


def _shot(driver: Any, width: int, path: Path) -> None:
    """A full-page screenshot at ``width`` CSS pixels (phone width emulates a phone)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 500},
    )
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    height = int(metrics["cssContentSize"]["height"]) + 1
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))


def _submit(driver: Any, act: Any) -> None:
    """Run ``act`` (a click, Enter, submit) and wait for the next page to replace this one."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    act()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(old))


def _content_width(driver: Any) -> int:
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    return int(metrics["cssContentSize"]["width"])


async def test_a_person_changes_their_alerts_and_confirms_an_action_in_chromium(
    browser: Any, smtp: SmtpSink, database: Database
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    sub_id = await subscribe(database, EDDIE, ["catering services"])
    config = email_config(smtp, database)
    async with (
        channels(config, receive=False) as (_b, telegram, email),
        App(config, clock=lambda: CLOCK, telegram=telegram, email=email) as app,
    ):
        await app.cycle()
        (mail,) = smtp.to(EDDIE)
        text = mail.text or ""
        runner = await start_web(build_web_app(app.services), "127.0.0.1", 0)
        try:
            host, port = runner.addresses[0][:2]
            base = f"http://{host}:{port}"

            def url(label: str) -> str:
                found = re.search(
                    rf"^{re.escape(label)}: https://alerts\.seem\.example(\S+)", text, re.MULTILINE
                )
                assert found is not None, text
                return base + found.group(1)

            manage, relevant = url("Manage your alerts"), url("Relevant")

            def settings_steps() -> dict[str, Any]:
                d = browser
                d.get(manage)
                assert d.find_element(By.TAG_NAME, "h1").text == "Your alerts"
                # the keyboard path: type, Tab to the button, Enter
                box = d.find_element(By.ID, "keywords")
                box.click()
                box.send_keys('school meals, "meals on wheels"')
                box.send_keys(Keys.TAB)
                assert d.switch_to.active_element.text == "Add keywords"
                _submit(d, lambda: d.switch_to.active_element.send_keys(Keys.ENTER))
                note = d.find_element(By.CSS_SELECTOR, ".note").text
                # regions: tick Nottingham and Derby (by their labels), save
                for name in ("Nottingham", "Derby"):
                    d.find_element(By.XPATH, f"//label[normalize-space()='{name}']").click()
                save = d.find_element(By.XPATH, "//button[normalize-space()='Save regions']")
                _submit(d, save.click)
                regions_note = d.find_element(By.CSS_SELECTOR, ".note").text
                # weekly digest, Tuesdays at 09:00, quiet hours 22-7
                d.find_element(By.ID, "frequency-weekly").click()
                d.find_element(By.CSS_SELECTOR, "#digest_hour option[value='9']").click()
                d.find_element(By.CSS_SELECTOR, "#weekly_day option[value='1']").click()
                quiet = d.find_element(By.ID, "quiet_hours")
                quiet.clear()
                quiet.send_keys("22-7")
                _submit(d, quiet.submit)
                delivery_note = d.find_element(By.CSS_SELECTOR, ".note").text
                _shot(d, DESKTOP, DOCS / "email-settings-desktop.png")
                _shot(d, PHONE, DOCS / "email-settings-phone.png")
                phone_width = _content_width(d)
                return {
                    "note": note,
                    "regions": regions_note,
                    "delivery": delivery_note,
                    "phone_width": phone_width,
                }

            seen = await asyncio.to_thread(settings_steps)
            assert seen["note"].startswith('Added 2: “school meals”, “"meals on wheels"”')
            assert "Nottingham" in seen["regions"] and "Derby" in seen["regions"]
            assert "One weekly digest on Tuesdays at 09:00" in seen["delivery"]
            assert seen["phone_width"] <= PHONE  # nothing wider than the phone: no sideways scroll

            async with database.session() as session:
                profile = (
                    await session.exec(select(ProfileRow).where(ProfileRow.subscriber_id == sub_id))
                ).one()
                sub = await session.get(SubscriberRow, sub_id)
            assert profile.keywords == ["catering services", "school meals", '"meals on wheels"']
            assert sorted(profile.regions) == ["UKF11", "UKF14"]
            assert sub is not None
            assert (sub.frequency, sub.digest_hour, sub.weekly_day, sub.quiet_hours) == (
                "weekly",
                9,
                1,
                "22:00-07:00",
            )

            def confirm_steps() -> str:
                d = browser
                d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
                d.get(relevant)
                _shot(d, PHONE, DOCS / "email-action-confirm-phone.png")
                button = d.find_element(
                    By.XPATH, "//button[normalize-space()='Yes, it was relevant']"
                )
                _submit(d, button.click)
                return str(d.find_element(By.TAG_NAME, "body").text)

            async with database.session() as session:
                assert (await session.exec(select(FeedbackRow))).all() == []
            done = await asyncio.to_thread(confirm_steps)
            assert "is marked relevant" in done
            async with database.session() as session:
                (feedback,) = (await session.exec(select(FeedbackRow))).all()
            assert (feedback.subscriber_id, feedback.relevant) == (sub_id, True)
        finally:
            await runner.cleanup()
    for name in ("email-settings-phone.png", "email-settings-desktop.png"):
        assert (DOCS / name).stat().st_size > 10_000
