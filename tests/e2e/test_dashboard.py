"""The operator dashboard in headless Chromium (Debian's), against the live pipeline on the
broker: it shows what the API says, refreshes by itself as events flow, draws the time to lift,
and asks nothing of any other server."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from tests.api_live import TOKENS, LiveApi, live_api_fixture  # noqa: F401
from tests.browser import async_browser  # noqa: F401
from tests.builders import listed, person_id, shielded

TIMEOUT_MS = 20_000


async def _number(page, element_id: str) -> int:  # type: ignore[no-untyped-def]
    return int(await page.text_content(f"#{element_id}"))


async def test_the_dashboard_shows_the_pipeline_and_keeps_up(
    live_api: LiveApi,
    async_browser,  # noqa: F811
):
    api = live_api
    first = [listed(f"D{n}", person_id(4100 + n)) for n in range(1, 4)]
    await api.intake(first)

    page = await async_browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        await page.goto(f"{api.url}/#token={TOKENS['operator'][0]}")
        await page.wait_for_selector("#board", state="visible", timeout=TIMEOUT_MS)
        assert "token=" not in page.url  # taken out of the address once read

        status, data = await api.call("GET", "/v1/dashboard", "operator")
        assert status == 200
        assert await _number(page, "listed-entries") == data["listed_entries"] == 3
        assert await _number(page, "sanctioned-subjects") == data["sanctioned_subjects"] == 3
        assert await _number(page, "sanctionable-subjects") == data["sanctionable_subjects"]
        assert await _number(page, "deadlines-open") == data["deadlines"]["open"]
        rows = await page.locator("#by-department tbody tr").all_inner_texts()
        aviation = next(r for r in rows if r.startswith("aviation"))
        assert aviation.split("\t")[1] == str(
            data["sanctions_by_department"]["aviation"]["applied"]
        )
        events = await page.locator("#recent-events tbody tr").all_inner_texts()
        assert any("DebtorListed" in row and "D3" in row for row in events)
        assert await page.locator("#lift-svg rect.bar").count() == 7
        assert "no lift yet" in (await page.text_content("#lift-summary") or "")

        # events flow; the page refreshes by itself (no reload)
        await api.intake(
            [listed("D4", person_id(4104))]
            + [shielded(f"D{n}", "2024-03-12T10:00:00+08:00") for n in (1, 2)]
        )
        producer = AIOKafkaProducer(bootstrap_servers=api.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(
                api.settings.topic_court_events, key=b'"bad"', value=b"\x00 not avro"
            )
        finally:
            await producer.stop()
        await api.settle()
        status, data = await api.call("GET", "/v1/dashboard", "operator")
        assert data["listed_entries"] == 2 and data["lift_times"]["closed"]
        await page.wait_for_function(
            "() => document.querySelector('#listed-entries').textContent === '2'",
            timeout=TIMEOUT_MS,
        )
        await page.wait_for_function(
            "() => document.querySelectorAll('#dead-letters tbody tr').length > 0",
            timeout=TIMEOUT_MS,
        )
        assert await _number(page, "deadlines-met") == data["deadlines"]["met"] > 0
        bars = page.locator("#lift-svg rect.bar")
        counts = [int(await bars.nth(i).get_attribute("data-count") or 0) for i in range(7)]
        assert counts == [b["count"] for b in data["lift_times"]["bins"]]
        assert sum(counts) == data["lift_times"]["closed"]
        assert f"{data['lift_times']['closed']} lifts" in (
            await page.text_content("#lift-summary") or ""
        )
        letters = await page.locator("#dead-letters tbody tr").all_inner_texts()
        assert any("not Avro" in row for row in letters)
        refreshes = int(await page.get_attribute("#status", "data-refreshes") or 0)
        assert refreshes >= 2
        await page.screenshot(path="/tmp/shixin-dashboard.png", full_page=True)
        assert requested and all(url.startswith(api.url) for url in requested), requested
    finally:
        await page.close()


async def test_the_dashboard_asks_for_a_token_and_refuses_a_wrong_one(
    live_api: LiveApi,
    async_browser,  # noqa: F811
):
    page = await async_browser.new_page()
    try:
        await page.goto(f"{live_api.url}/")
        await page.wait_for_selector("#login", state="visible", timeout=TIMEOUT_MS)
        assert await page.is_hidden("#board")
        await page.fill("#token", TOKENS["court"][0])
        await page.click("#login button")
        await page.wait_for_function(
            "() => document.querySelector('#status').textContent.includes('may not')",
            timeout=TIMEOUT_MS,
        )
        assert await page.is_hidden("#board")
        await page.fill("#token", TOKENS["auditor"][0])
        await page.click("#login button")
        await page.wait_for_selector("#board", state="visible", timeout=TIMEOUT_MS)
    finally:
        await page.close()
