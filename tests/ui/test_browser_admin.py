"""The admin pages of a server with --auth, in a real browser: an administrator signs in,
creates a user, makes and unmakes an administrator, grants and revokes a permission on an
experiment, runs a group with a member and a grant, and deletes the user; the grants take
effect on the API at once."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Page, expect
from ui_helpers import ADMIN, sign_in

pytestmark = pytest.mark.browser

ERIN = ("erin", "plum-lantern-river-7")


def test_an_administrator_manages_users_groups_and_grants(
    page: Page, auth_server: Callable[..., str]
) -> None:
    url = auth_server(auth_default_permission="NO_PERMISSIONS")
    api = url + "/api/2.0/mlflow"
    exp_id = httpx.post(api + "/experiments/create", json={"name": "shared"}, auth=ADMIN).json()[
        "experiment_id"
    ]
    sign_in(page, url, "/admin/users")
    expect(page.locator("nav.mainnav a", has_text="Admin")).to_have_attribute(
        "aria-current", "page"
    )

    # A weak password is refused with the reason, and nothing is created.
    create = page.locator("#create-user")
    create.locator("input[name=username]").fill(ERIN[0])
    create.locator("input[name=password]").fill("short")
    create.locator("button[type=submit]").click()
    expect(page.locator(".alert.error")).to_contain_text("too short")
    expect(page.locator("tr[data-username=erin]")).to_have_count(0)

    create = page.locator("#create-user")
    create.locator("input[name=username]").fill(ERIN[0])
    create.locator("input[name=password]").fill(ERIN[1])
    create.locator("button[type=submit]").click()
    row = page.locator("tr[data-username=erin]")
    expect(row).to_be_visible()
    assert (
        httpx.get(api + "/experiments/get", params={"experiment_id": exp_id}, auth=ERIN).status_code
        == 403
    )

    row.locator("button.set-admin").click()
    expect(page.locator("tr[data-username=erin] .badge")).to_have_text("admin")
    page.locator("tr[data-username=erin] button.set-admin").click()
    expect(page.locator("tr[data-username=erin] .badge")).to_have_count(0)

    # A grant on the experiment, from the user's page.
    page.locator("tr[data-username=erin] a").click()
    expect(page.locator("h1")).to_have_text("erin")
    grant = page.locator("#grant")
    grant.locator("select[name=kind]").select_option("experiment")
    grant.locator("input[name=resource]").fill("99999")
    grant.locator("button[type=submit]").click()
    expect(page.locator(".alert.error")).to_contain_text("99999")  # no such experiment
    grant = page.locator("#grant")
    grant.locator("input[name=resource]").fill(exp_id)
    grant.locator("select[name=permission]").select_option("EDIT")
    grant.locator("button[type=submit]").click()
    expect(page.locator(f"tr[data-resource='{exp_id}'] .permission")).to_have_text("EDIT")
    made = httpx.post(api + "/runs/create", json={"experiment_id": exp_id}, auth=ERIN)
    assert made.status_code == 200, made.text
    page.locator(f"tr[data-resource='{exp_id}'] button.revoke").click()
    expect(page.locator(f"tr[data-resource='{exp_id}']")).to_have_count(0)
    assert (
        httpx.post(api + "/runs/create", json={"experiment_id": exp_id}, auth=ERIN).status_code
        == 403
    )

    # A group with erin in it and a READ grant: erin reads through the group.
    page.locator("nav.subnav a", has_text="Groups").click()
    page.locator("#create-group input[name=group]").fill("analysts")
    page.locator("#create-group button[type=submit]").click()
    group = page.locator("section[data-group=analysts]")
    group.locator(".add-member input[name=username]").fill(ERIN[0])
    group.locator(".add-member button[type=submit]").click()
    expect(page.locator("section[data-group=analysts] li[data-username=erin]")).to_be_visible()
    group = page.locator("section[data-group=analysts]")
    group.locator(".group-grant input[name=resource]").fill(exp_id)
    group.locator(".group-grant button[type=submit]").click()
    expect(
        page.locator("section[data-group=analysts] li[data-kind=experiment] .permission")
    ).to_have_text("READ")
    read = httpx.get(api + "/experiments/get", params={"experiment_id": exp_id}, auth=ERIN)
    assert read.status_code == 200, read.text
    page.locator("section[data-group=analysts] li[data-kind=experiment] button.revoke").click()
    expect(page.locator("section[data-group=analysts] li[data-kind=experiment]")).to_have_count(0)
    page.locator("section[data-group=analysts] li[data-username=erin] button.remove-member").click()
    expect(page.locator("section[data-group=analysts] li[data-username=erin]")).to_have_count(0)
    page.locator("section[data-group=analysts] button.delete-group").click()
    expect(page.locator("section[data-group=analysts]")).to_have_count(0)

    # Deleting the user ends their access.
    page.locator("nav.subnav a", has_text="Users").click()
    page.locator("tr[data-username=erin] button.delete-user").click()
    expect(page.locator("tr[data-username=erin]")).to_have_count(0)
    gone = httpx.get(api + "/experiments/search", auth=ERIN)
    assert gone.status_code == 401
    # The administrator's own row offers no way to lock themselves out.
    expect(page.locator("tr[data-username=root] button")).to_have_count(0)
