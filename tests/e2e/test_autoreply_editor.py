"""An admin edits working hours and writes an automatic reply in the console (docs/console.md)."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import DemoServer, credentials
from tests.e2e.test_chat import sign_in


def monday_hours(demo: DemoServer) -> list[tuple[str, str]]:
    """Monday's ranges of "Working hours", asked through the REST API."""
    email, password = credentials(demo)
    with httpx.Client(base_url=demo.url) as client:
        client.post("/console/login", data={"email": email, "password": password})
        site_id = client.get("/api/v1/sites").json()["data"][0]["id"]
        schedules = client.get("/api/v1/schedules", params={"site_id": site_id}).json()["data"]
    hours = next(s for s in schedules if s["name"] == "Working hours")
    return [(r["start"], r["end"]) for r in hours["weekly"] if r["day"] == "mon"]


def test_admin_fixes_overlapping_hours_and_previews_a_new_rule(browser: Browser, demo: DemoServer):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    console = context.new_page()
    sign_in(console, demo)
    console.get_by_role("link", name="Auto-replies").click()
    expect(console).to_have_url(f"{demo.url}/console/autoreplies")
    page = console.locator("#page-autoreplies")

    # A lunch hour inside Monday's 09:00-18:00 overlaps: the server's reason shows in place.
    page.get_by_role("button", name="Edit schedule Working hours").click()
    editor = page.locator("#schedule-editor")
    editor.get_by_role("button", name="Add hours on Monday").click()
    editor.get_by_label("Monday, range 2, from").fill("12:00")
    editor.get_by_label("Monday, range 2, until").fill("13:00")
    editor.get_by_role("button", name="Save schedule").click()
    error = editor.get_by_role("alert")
    expect(error).to_contain_text("overlap")
    expect(error).to_contain_text("Mon 12:00-13:00")
    expect(editor.get_by_label("Monday, range 2, from")).to_have_attribute("aria-invalid", "true")
    assert monday_hours(demo) == [("09:00", "18:00")]

    # An evening shift instead: saved, back on the list, and stored.
    editor.get_by_label("Monday, range 2, from").fill("19:00")
    expect(error).to_be_hidden()
    editor.get_by_label("Monday, range 2, until").fill("21:00")
    editor.get_by_role("button", name="Save schedule").click()
    expect(editor).to_be_hidden()
    schedule_row = page.locator("#schedule-list li", has_text="Working hours")
    expect(schedule_row).to_contain_text("Mon 09:00\u201318:00, 19:00\u201321:00")  # en dashes
    assert monday_hours(demo) == [("09:00", "18:00"), ("19:00", "21:00")]

    # A new rule for busy weekend evenings; the preview shows it before it is saved.
    preview = page.locator("#preview-panel")
    preview.get_by_role("button", name="Saturday 23:00").click()
    preview.get_by_role("group", name="Operators online").get_by_label("Yes").check()
    preview.get_by_label("Name (optional)").fill("Ann Lee")

    page.get_by_role("button", name="New rule").click()
    rule = page.locator("#rule-editor")
    rule.get_by_label("Name", exact=True).fill("Busy evenings")
    rule.get_by_label("Operators online but nobody replied").check()
    rule.get_by_role("button", name="Immediately").click()
    expect(rule.get_by_text("Sent immediately")).to_be_visible()
    rule.get_by_label("Reply", exact=True).fill("Hello ")
    rule.get_by_text("Variables you can use").click()
    rule.get_by_role("button", name="{{ contact.first_name }}").click()
    rule.get_by_label("Reply", exact=True).press("End")
    rule.get_by_label("Reply", exact=True).press_sequentially(", we'll be right with you.")

    expect(preview.get_by_text("With your unsaved changes")).to_be_visible()
    expect(preview.get_by_text("Hello Ann, we'll be right with you.")).to_be_visible()
    expect(preview).to_contain_text("Busy evenings")

    rule.get_by_role("button", name="Create rule").click()
    expect(rule).to_be_hidden()
    expect(page.locator("#rule-list")).to_contain_text("Busy evenings")
    expect(preview.get_by_text("With your unsaved changes")).to_be_hidden()
    expect(preview.get_by_text("Hello Ann, we'll be right with you.")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Move Busy evenings down"))).to_be_disabled()
    context.close()
