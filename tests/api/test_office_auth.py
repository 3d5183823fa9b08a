"""The back office's sign-in (docs/office.md): session cookie, CSRF token on every change,
roles, throttled guessing, sign-out."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from starlette.testclient import TestClient

from minipos.api.routing import PATH_PARAMETER
from minipos.auth import people
from minipos.auth.principal import Role
from minipos.bootstrap import create_app
from minipos.config import Settings
from minipos.db import Connection, open_database
from support import Api, declared_operations, sign_in_failures

PASSWORD = "correct horse battery"
OFFICE_TABLES = ("office_login_failures", "office_sessions", "office_users")


def add_users(settings: Settings) -> None:
    def job(conn: Connection) -> None:
        for table in OFFICE_TABLES:  # PostgreSQL keeps rows between tests
            conn.execute(f"DELETE FROM {table}")
        people.add_user(conn, "anna", people.OfficeRole.ADMIN, PASSWORD, 0)
        people.add_user(conn, "maris", people.OfficeRole.MANAGER, PASSWORD, 0)

    db = open_database(settings.database_url)
    try:
        db.run(job)
    finally:
        db.close()


@pytest.fixture
def office(api: Api, settings: Settings) -> TestClient:
    """A client with no key: only what the browser would send."""
    add_users(settings)
    return api.as_(None)


@pytest.fixture
def tls_office(settings: Settings) -> Iterator[TestClient]:
    add_users(settings)
    with TestClient(create_app(settings), base_url="https://office.test") as client:
        yield client


def sign_in(client: TestClient, name: str, password: str = PASSWORD, **headers: str) -> Any:
    return client.post("/office/login", json={"name": name, "password": password}, headers=headers)


def csrf(client: TestClient, name: str) -> dict[str, str]:
    response = sign_in(client, name)
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def test_sign_in_sets_a_strict_http_only_cookie(office: TestClient) -> None:
    response = sign_in(office, "anna")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "anna"
    assert body["role"] == "admin"
    assert body["csrf_token"]
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie
    assert "secure" not in cookie
    assert office.get("/office/session").json()["name"] == "anna"
    assert office.get("/api/products").status_code == 200


def test_over_tls_the_cookie_is_secure(tls_office: TestClient) -> None:
    response = sign_in(tls_office, "anna")
    assert response.status_code == 200
    assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_is_401_and_no_session(office: TestClient) -> None:
    response = sign_in(office, "anna", "wrong password")
    assert response.status_code == 401
    assert "set-cookie" not in response.headers
    assert office.get("/office/session").status_code == 401
    assert office.get("/api/products").status_code == 401


def test_a_change_without_the_csrf_token_is_refused(office: TestClient) -> None:
    token = csrf(office, "anna")
    product = {"name": "Maize", "price": "1.50"}
    refused = office.post("/api/products", json=product)
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    wrong = office.post("/api/products", json=product, headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    assert office.get("/api/products").json() == []  # nothing was written
    made = office.post("/api/products", json=product, headers=token)
    assert made.status_code == 201, made.text
    # sign-out is a change too
    assert office.post("/office/logout").status_code == 403
    assert office.get("/office/session").status_code == 200


def test_cross_site_sign_in_is_refused(office: TestClient) -> None:
    assert sign_in(office, "anna", Origin="https://evil.example").status_code == 403
    form = office.post("/office/login", data={"name": "anna", "password": PASSWORD})
    assert form.status_code == 415  # an HTML form cannot send JSON
    assert sign_in(office, "anna", Origin="http://testserver").status_code == 200


def test_a_manager_session_cannot_do_admin_things(office: TestClient) -> None:
    token = csrf(office, "maris")
    assert office.get("/office/session").json()["role"] == "manager"
    # reads what the back office reads, and edits the catalogue
    assert office.get("/api/stations").status_code == 200
    assert office.get("/api/receipts").status_code == 200
    made = office.post("/api/products", json={"name": "Piens", "price": "0.99"}, headers=token)
    assert made.status_code == 201, made.text
    changed = office.patch(
        f"/api/products/{made.json()['id']}", json={"price": "1.09"}, headers=token
    )
    assert changed.status_code == 200, changed.text
    # but no stations, keys, webhooks or invoices
    for method, path, body in [
        ("POST", "/api/stations", {"name": "Kase 9", "pos_id": "9", "chassis_id": "C9"}),
        ("GET", "/api/webhooks", None),
        ("POST", "/api/webhooks", {"url": "https://example.com/hook"}),
        ("GET", "/api/keys", None),
        ("POST", "/api/invoice/new", {"rows": []}),
        ("POST", "/api/stores", {"code": "X", "name": "X"}),
    ]:
        response = office.request(method, path, json=body, headers=token)
        assert response.status_code in (403, 404), (method, path, response.text)
        if path != "/api/keys":
            assert response.status_code == 403, (method, path, response.text)


def test_an_admin_session_may_register_a_station(office: TestClient) -> None:
    token = csrf(office, "anna")
    body = {"name": "Kase 9", "pos_id": "9", "chassis_id": "C9"}
    response = office.post("/api/stations", json=body, headers=token)
    assert response.status_code == 201, response.text


def test_guessing_a_password_is_slowed(office: TestClient) -> None:
    for _ in range(people.USER_ALLOWANCE):
        assert sign_in(office, "anna", "guess").status_code == 401
    # now even the right password waits
    slowed = sign_in(office, "anna")
    assert slowed.status_code == 429, slowed.text
    assert 0 < int(slowed.headers["retry-after"]) <= people.FIRST_WAIT_US // 1_000_000
    # the other user is not locked out by the guesses at anna
    assert sign_in(office, "maris").status_code == 200


def test_guessing_many_names_from_one_address_is_slowed(office: TestClient) -> None:
    for n in range(people.CLIENT_ALLOWANCE):
        assert sign_in(office, f"nobody{n}", "guess").status_code == 401
    assert sign_in(office, "maris").status_code == 429


def test_guesses_sent_together_are_slowed_too(office: TestClient, settings: Settings) -> None:
    """A burst of wrong passwords sent side by side: no more are checked than one after
    another would be (each is counted before its password is checked), the rest wait; after
    the wait the right password signs in."""
    guesses = [f"wrong{n}" for n in range(12)]
    with ThreadPoolExecutor(len(guesses)) as pool:
        answers = list(pool.map(lambda guess: sign_in(office, "anna", guess), guesses))
    statuses = sorted(answer.status_code for answer in answers)
    checked = statuses.count(401)
    assert 1 <= checked <= people.USER_ALLOWANCE, statuses
    assert statuses.count(429) == len(guesses) - checked, statuses
    wait_s = people.FIRST_WAIT_US // 1_000_000
    assert all(0 < int(a.headers["retry-after"]) <= wait_s for a in answers if a.status_code == 429)
    assert sign_in_failures(settings.database_url, "user:anna") == checked
    assert sign_in_failures(
        settings.database_url, "user:anna", older_by_us=people.FIRST_WAIT_US + 1_000_000
    )
    assert sign_in(office, "anna").status_code == 200
    assert sign_in_failures(settings.database_url, "user:anna") == 0


def test_the_right_password_among_guesses_sent_together_signs_in(
    office: TestClient, settings: Settings
) -> None:
    """Within the allowance, the right password sent alongside wrong ones is not held up by
    the failure counted for it while it was checked; its failure for the address goes too."""
    passwords = ["wrong0", "wrong1", PASSWORD, "wrong2", "wrong3"]
    with ThreadPoolExecutor(len(passwords)) as pool:
        answers = list(pool.map(lambda password: sign_in(office, "anna", password), passwords))
    assert [a.status_code for a in answers] == [401, 401, 200, 401, 401]
    assert sign_in_failures(settings.database_url, "addr:testclient") == len(passwords) - 1


def test_sign_out_ends_the_session(office: TestClient) -> None:
    token = csrf(office, "anna")
    cookie = office.cookies.get(people.SESSION_COOKIE)
    assert cookie
    out = office.post("/office/logout", headers=token)
    assert out.status_code == 204
    assert office.get("/api/products").status_code == 401
    # the old cookie, sent again, is dead on the server too
    office.cookies.set(people.SESSION_COOKIE, cookie)
    assert office.get("/api/products").status_code == 401
    assert office.get("/office/session").status_code == 401


def test_an_expired_session_is_refused(office: TestClient, settings: Settings) -> None:
    csrf(office, "anna")
    db = open_database(settings.database_url)
    try:
        db.run(lambda conn: conn.execute("UPDATE office_sessions SET expires_at = 1"))
    finally:
        db.close()
    assert office.get("/api/products").status_code == 401


def test_a_key_still_wins_over_a_cookie(api: Api, office: TestClient) -> None:
    csrf(office, "maris")
    assert api.as_(Role.ADMIN).get("/api/webhooks").status_code == 200
    api.as_(None)


def test_a_disabled_user_cannot_sign_in_and_loses_the_session(
    office: TestClient, settings: Settings
) -> None:
    csrf(office, "maris")
    db = open_database(settings.database_url)
    try:
        db.run(lambda conn: people.change_user(conn, "maris", disabled=True, now_us=1))
    finally:
        db.close()
    assert office.get("/api/products").status_code == 401
    assert sign_in(office, "maris").status_code == 401


def test_passwords_are_stored_as_scrypt_hashes() -> None:
    stored = people.hash_password(PASSWORD)
    assert stored.startswith("scrypt$")
    assert PASSWORD not in stored
    assert people.check_password(stored, PASSWORD)
    assert not people.check_password(stored, PASSWORD + "x")


def test_the_pages_cannot_be_framed_and_the_session_is_not_cached(office: TestClient) -> None:
    page = office.get("/office/")
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    signed = sign_in(office, "anna")
    assert signed.headers["cache-control"] == "no-store"
    assert office.get("/office").status_code == 200  # redirected to /office/


#: Every declared endpoint, read off the app (a new one is covered at once).
OPERATIONS = declared_operations(create_app(Settings()))
MANAGER_MAY_CHANGE = (
    "/api/products",
    "/api/categories",
    "/api/catalogue/import",
    "/api/receipts/{id}/reprint",
    "/api/print-jobs/{id}/retry",
)


def test_a_manager_changes_only_the_catalogue_and_reprints(office: TestClient) -> None:
    token = csrf(office, "maris")
    checked = 0
    for op in OPERATIONS:
        path = PATH_PARAMETER.sub("1", op.path)
        if op.method == "GET":
            secret = op.path.startswith(("/api/keys", "/api/webhooks"))
            if secret:
                assert office.get(path).status_code == 403, op.path
            continue
        if op.path.startswith(MANAGER_MAY_CHANGE) and (Role.ADMIN in op.roles):
            continue
        response = office.request(op.method, path, json={"unknown": []}, headers=token)
        assert response.status_code == 403, (op.method, op.path, response.text)
        checked += 1
    assert checked > 20


def test_an_admin_manages_users_and_a_manager_cannot(office: TestClient) -> None:
    token = csrf(office, "anna")
    listed = office.get("/office/users").json()
    assert [(u["name"], u["role"], u["disabled"]) for u in listed] == [
        ("anna", "admin", False),
        ("maris", "manager", False),
    ]
    body = {"name": "liga", "role": "manager", "password": "x" * 12}
    assert office.post("/office/users", json=body).status_code == 403  # no CSRF token
    made = office.post("/office/users", json=body, headers=token)
    assert made.status_code == 201, made.text
    again = office.post("/office/users", json=body, headers=token)
    assert (again.status_code, again.json()) == (
        400,
        {"name": ["a user named 'liga' exists already"]},
    )
    short = office.post("/office/users", json=body | {"password": "x"}, headers=token)
    assert (short.status_code, list(short.json())) == (400, ["password"])
    unknown = office.patch("/office/users/999", json={"role": "admin"}, headers=token)
    assert (unknown.status_code, unknown.json()) == (404, {"detail": "Not found."})
    anna = next(u for u in listed if u["name"] == "anna")
    own = office.patch(f"/office/users/{anna['id']}", json={"disabled": True}, headers=token)
    assert own.status_code == 400  # not oneself
    liga = made.json()["id"]
    assert (
        office.patch(f"/office/users/{liga}", json={"disabled": True}, headers=token).status_code
        == 204
    )
    other = TestClient(office.app)
    assert sign_in(other, "liga", "x" * 12).status_code == 401  # disabled
    # a manager may not see or change users
    manager = TestClient(office.app)
    mtoken = csrf(manager, "maris")
    assert manager.get("/office/users").status_code == 403
    assert (
        manager.post("/office/users", json=body | {"name": "x2"}, headers=mtoken).status_code == 403
    )
