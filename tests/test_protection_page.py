"""The administrator's data protection page: keys, rows per key, retention, backups, at a glance."""
# ruff: noqa: F811 - fixtures come from tests.staff_support

from __future__ import annotations

from tests.staff_support import add_submission, as_role, users  # noqa: F401


def test_the_page_shows_the_active_key_unfinished_rotations_retention_and_backups(app, as_role):
    add_submission(app)
    admin = as_role("admin")
    keyring = app.extensions["intake.keyring"]
    page = admin.get("/staff/admin/data-protection").text
    assert keyring.active_id in page and "Kept until erased (no retention period set)" in page
    assert "No backup has been made yet." in page and "not on the active key" not in page

    old = keyring.active_id
    keyring.add_key()
    app.config["RETENTION_DAYS"] = 3650
    assert app.test_cli_runner().invoke(args=["backup"]).exit_code == 0
    page = admin.get("/staff/admin/data-protection").text
    # The submission and the three staff accounts (their TOTP secret column) were sealed with the old key.
    assert "4 row(s) are not on the active key yet" in page and old in page and keyring.active_id in page
    assert "Erased 3650 days after submission and visit." in page
    assert "No backup has been made yet." not in page and "Newest 1 of 1" in page


def test_a_bad_retention_setting_is_shown_not_hidden(app, as_role):
    app.config["RETENTION_DAYS"] = 3
    assert "anything under 30 days is refused" in as_role("admin").get("/staff/admin/data-protection").text


def test_on_postgresql_the_page_points_to_pg_dump(pg_app):
    from tests.staff_support import login, make_user

    make_user(pg_app, "admin")
    client = pg_app.test_client()
    assert login(client, "admin@clinic.test").status_code == 302
    page = client.get("/staff/admin/data-protection").text
    assert "pg_dump" in page and pg_app.extensions["intake.keyring"].active_id in page


def test_only_administrators_see_the_link(app, as_role):
    assert "/staff/admin/data-protection" in as_role("admin").get("/staff/").text
    assert "/staff/admin/data-protection" not in as_role("physician").get("/staff/").text
