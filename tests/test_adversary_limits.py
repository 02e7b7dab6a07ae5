"""Property 8, played as a hostile member would: limits cannot be multiplied.

The attacker adds accounts to its company, spoofs X-Forwarded-For, guesses passwords, and probes
whether an e-mail has an account; each test asserts what it must not gain.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from core import ratelimit
from core.settings import get_settings
from marketplace.accounts.models import Role
from tests.factories import PASSWORD, bearer, create_tenant, create_user_row
from tests.symbiose_process import free_port, served_app
from tests.test_alerts import SmtpServer

MID_MINUTE = 6_000_030.0  # the catalogue's fixed window does not roll over during a test


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    now = [MID_MINUTE]
    monkeypatch.setattr(ratelimit, "_now", lambda: now[0])
    yield now


def _reads_until_refused(client: TestClient, headers: dict[str, str], most: int) -> int:
    served = 0
    for _ in range(most):
        answer = client.get("/api/v1/catalogue", headers=headers)
        if answer.status_code == 429:
            return served
        assert answer.status_code == 200, answer.text
        served += 1
    return served


def test_ten_accounts_of_one_company_share_one_read_budget(
    client: TestClient,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    frozen_clock: list[float],
) -> None:
    budget = 5
    monkeypatch.setattr(get_settings(), "search_rate_per_minute", budget)
    tenant = create_tenant(session, "Multiplicateur SAS")
    accounts = [tenant.headers] + [
        bearer(session, create_user_row(session, Role.MEMBER, tenant.company)) for _ in range(9)
    ]
    # Each account reads until refused: on main each had its own budget (10 x 5 = 50 reads).
    total = sum(_reads_until_refused(client, headers, budget + 1) for headers in accounts)
    assert total == budget
    refused = client.get("/api/v1/catalogue", headers=accounts[-1])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    # Another company's budget is its own.
    other = create_tenant(session, "Voisin Honnête SA")
    assert client.get("/api/v1/catalogue", headers=other.headers).status_code == 200


def test_the_pages_and_the_api_share_the_company_budget(
    client: TestClient,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    frozen_clock: list[float],
) -> None:
    monkeypatch.setattr(get_settings(), "search_rate_per_minute", 2)
    tenant = create_tenant(session, "Deux Canaux SAS")
    colleague = create_user_row(session, Role.MEMBER, tenant.company)
    assert _reads_until_refused(client, tenant.headers, 3) == 2
    login = client.get("/login")
    token = login.cookies["symbiose_login_csrf"]
    client.post(
        "/login",
        data={"email": colleague.email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    page = client.get("/catalogue?kind=material")
    assert page.status_code == 429


@pytest.fixture
def relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A local SMTP relay (aiosmtpd) keeping what it is sent."""
    server = SmtpServer(port=free_port())
    server.start()
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    monkeypatch.setattr(get_settings(), "smtp_port", server.port)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app as `symbiose serve` runs it (uvicorn, its proxy settings), on its own database."""
    database = tmp_path_factory.mktemp("served") / "served.db"
    env = {
        **os.environ,
        "SYMBIOSE_DATABASE_URL": f"sqlite:///{database}",
        "SYMBIOSE_SEARCH_RATE_PER_MINUTE": "3",
        "SYMBIOSE_RATE_LIMIT_URL": "",
        "SYMBIOSE_TRUSTED_PROXIES": "",
    }
    with served_app(env) as base:
        yield base


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_buys_no_budget(served: str) -> None:
    # A visitor on the same host as the server (the case main trusted) spoofs a fresh address
    # for every read: on main each read had a fresh budget. Now the peer is the client.
    statuses = [
        httpx.get(
            f"{served}/api/v1/catalogue",
            headers={"X-Forwarded-For": f"198.51.100.{n}", "Forwarded": f"for=203.0.113.{n}"},
            timeout=10,
        ).status_code
        for n in range(1, 9)
    ]
    # Whichever minute these fell in, at most two windows' worth (2 x 3) were served.
    assert statuses.count(200) <= 6 and 429 in statuses


def test_forwarded_for_is_believed_from_a_configured_proxy_only(
    session: Session, monkeypatch: pytest.MonkeyPatch, frozen_clock: list[float]
) -> None:
    monkeypatch.setattr(get_settings(), "search_rate_per_minute", 1)
    monkeypatch.setattr(get_settings(), "trusted_proxies", "10.0.0.0/8")
    app = create_app()
    with TestClient(app, client=("10.0.0.7", 5000)) as proxy:
        # Behind the proxy, two clients are two budgets; the spoofed left part is ignored.
        first = {"X-Forwarded-For": "6.6.6.6, 192.0.2.1"}
        second = {"X-Forwarded-For": "6.6.6.6, 192.0.2.2"}
        assert proxy.get("/api/v1/catalogue", headers=first).status_code == 200
        assert proxy.get("/api/v1/catalogue", headers=first).status_code == 429
        assert proxy.get("/api/v1/catalogue", headers=second).status_code == 200
    with TestClient(app, client=("192.0.2.50", 5000)) as direct:
        assert direct.get("/api/v1/catalogue").status_code == 200
        spoofed = {"X-Forwarded-For": "192.0.2.99"}
        assert direct.get("/api/v1/catalogue", headers=spoofed).status_code == 429


def test_eighty_wrong_passwords_then_the_right_one_is_refused_during_the_window(
    client: TestClient, session: Session, frozen_clock: list[float]
) -> None:
    victim = create_user_row(session, Role.COMPANY_ADMIN, create_tenant(session).company)
    statuses = [
        client.post(
            "/api/v1/auth/token", json={"email": victim.email, "password": f"guess-{n:04d}-xx"}
        ).status_code
        for n in range(80)
    ]
    right = client.post("/api/v1/auth/token", json={"email": victim.email, "password": PASSWORD})
    # On main: 80 answers "wrong password", then the right one got a token.
    assert right.status_code == 429
    assert right.json()["error"] == "RateLimited"
    window = get_settings().login_window_seconds
    assert 1 <= int(right.headers["Retry-After"]) <= window
    limit = get_settings().login_failures_per_account
    assert statuses[:limit] == [401] * limit and set(statuses[limit:]) == {429}
    # A window, not a lock: once it has slid past the failures, the right password works.
    frozen_clock[0] += window + 1
    again = client.post("/api/v1/auth/token", json={"email": victim.email, "password": PASSWORD})
    assert again.status_code == 200


def test_one_address_guessing_many_accounts_is_limited(
    client: TestClient, session: Session, frozen_clock: list[float]
) -> None:
    statuses = [
        client.post(
            "/api/v1/auth/token",
            json={"email": f"someone{n}@example.fr", "password": "wrong-password"},
        ).status_code
        for n in range(80)
    ]
    assert statuses[-1] == 429
    limit = get_settings().login_failures_per_address
    assert statuses[:limit] == [401] * limit and set(statuses[limit:]) == {429}


def test_the_login_page_refuses_with_a_message_and_retry_after(
    client: TestClient, session: Session, frozen_clock: list[float]
) -> None:
    victim = create_user_row(session, Role.MEMBER, create_tenant(session).company)

    def attempt(password: str) -> httpx.Response:
        token = client.get("/login").cookies["symbiose_login_csrf"]
        return client.post(
            "/login",
            data={"email": victim.email, "password": password, "csrf_token": token},
            follow_redirects=False,
        )

    wrong = [attempt(f"wrong-password-{n}").status_code for n in range(40)]
    refused = attempt(PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert set(wrong) == {401, 429}
    assert "Trop d&#39;échecs de connexion" in refused.text or "Trop d'échecs" in refused.text
    client.cookies.set("symbiose_lang", "en")
    assert "Too many failed logins" in attempt(PASSWORD).text


def test_adding_a_user_does_not_tell_whether_the_email_has_an_account(
    client: TestClient, session: Session, relay: SmtpServer
) -> None:
    attacker = create_tenant(session, "Curieux SAS")
    rival = create_tenant(session, "Concurrent SA")
    taken = rival.admin.email

    def add(email: str) -> httpx.Response:
        body = {"email": email, "password": "a-long-password", "role": "member"}
        return client.post("/api/v1/users", json=body, headers=attacker.headers)

    known, unknown = add(taken), add("personne.nouvelle@example.fr")
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())
    assert {k: v for k, v in known.json().items() if k != "email"} == {
        k: v for k, v in unknown.json().items() if k != "email"
    }
    # The existing account is untouched: same password, same company.
    token = client.post("/api/v1/auth/token", json={"email": taken, "password": PASSWORD})
    assert token.status_code == 200
    # Its owner is told someone tried (in French, its language), not who; nobody else is mailed.
    (notice,) = relay.inbox.to(taken)
    assert "Quelqu'un a tenté de créer un compte" in notice.get_content()
    assert "Curieux" not in notice.get_content()
    assert len(relay.inbox.messages) == 1
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["company_id"] == str(rival.company.id)


@pytest.mark.parametrize("store", ["process", "redis"])
def test_login_failures_slide_out_of_the_window(
    monkeypatch: pytest.MonkeyPatch, frozen_clock: list[float], store: str
) -> None:
    url = "redis://127.0.0.1:6379/15" if store == "redis" else ""
    if url:
        try:
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
        except Exception:
            pytest.skip("no Redis server on 127.0.0.1:6379")
    key = f"test:login:{uuid.uuid4()}"
    for second in range(3):  # failures at t, t+1, t+2 in a 10 s window, limit 3
        frozen_clock[0] = MID_MINUTE + second
        assert ratelimit.retry_after(key, 3, 10, url=url) is None
        ratelimit.record(key, 10, url=url)
    if url:
        ratelimit.reset()  # the failures live in Redis, not in this process
    assert ratelimit.retry_after(key, 3, 10, url=url) == 8  # the first one ages out at t+10
    frozen_clock[0] = MID_MINUTE + 10.5
    assert ratelimit.retry_after(key, 3, 10, url=url) is None  # not a lock: it reopens
    ratelimit.record(key, 10, url=url)
    assert ratelimit.retry_after(key, 3, 10, url=url) == 1
