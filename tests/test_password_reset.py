"""Password reset by e-mail, through the pages and a real local SMTP server: the link works once
and for a limited time, only its hash is stored, the answer is the same whether the address has an
account, requests are rate-limited, and after a reset every session and API token of the account
is closed."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.db import get_engine
from core.models import utcnow
from core.settings import get_settings
from marketplace.accounts.errors import WrongCredentials
from marketplace.accounts.models import ApiToken, PasswordReset, Role, User, WebSession
from marketplace.accounts.service import authenticate
from tests.factories import PASSWORD, bearer, create_tenant, create_user_row
from tests.test_alerts import SmtpServer
from tests.test_concurrency import Call, _burst
from tests.test_web import login, reloaded, token_in
from web.security import LOGIN_CSRF_COOKIE, new_login_token

NEW_PASSWORD = "une-toute-nouvelle-phrase"
LINK = re.compile(r"http://[^\s]+/password/reset/([A-Za-z0-9_\-]+)")


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real local SMTP relay (aiosmtpd) keeping what it is sent."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = SmtpServer(port=port)
    server.start()
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    monkeypatch.setattr(get_settings(), "smtp_port", port)
    yield server
    server.stop()


def _ask(client: TestClient, email: str) -> httpx.Response:
    token = token_in(client.get("/password/forgot").text)
    return client.post("/password/forgot", data={"email": email, "csrf_token": token})


def _body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _link_token(server: SmtpServer, email: str) -> str:
    messages = server.inbox.to(email)
    assert len(messages) == 1
    found = LINK.search(_body(messages[0]))
    assert found, _body(messages[0])
    return found.group(1)


def _reset(
    client: TestClient, token: str, password: str, confirmation: str | None = None
) -> httpx.Response:
    page = client.get(f"/password/reset/{token}")
    form_token = (
        token_in(page.text)
        if page.status_code == 200
        else token_in(client.get("/password/forgot").text)
    )
    return client.post(
        f"/password/reset/{token}",
        data={
            "password": password,
            "password_confirmation": password if confirmation is None else confirmation,
            "csrf_token": form_token,
        },
        follow_redirects=False,
    )


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def test_a_member_resets_a_forgotten_password_through_the_emailed_link(
    client: TestClient, session: Session, smtp: SmtpServer
) -> None:
    tenant = create_tenant(session)
    email = tenant.admin.email
    # A session and an API token that predate the reset (a thief's, say).
    other = TestClient(client.app)
    login(other, email)
    assert other.get("/flows", follow_redirects=False).status_code == 200
    assert client.get("/api/v1/flows", headers=tenant.headers).status_code == 200

    login_page = client.get("/login").text
    assert 'href="/password/forgot"' in login_page and "Mot de passe oublié ?" in login_page
    answer = _ask(client, email)
    assert answer.status_code == 200
    assert "vient de lui être envoyé" in answer.text

    message = smtp.inbox.to(email)[0]
    assert message["Subject"] == "Réinitialiser votre mot de passe Symbiose"
    assert "ne sert qu'une fois" in _body(message)
    token = _link_token(smtp, email)
    # Only the token's hash is stored: a copy of the database holds no working link.
    session.expire_all()
    rows = session.exec(select(PasswordReset)).all()
    assert len(rows) == 1 and token not in rows[0].token_hash

    form = client.get(f"/password/reset/{token}")
    assert form.status_code == 200 and "Choisir un nouveau mot de passe" in form.text
    assert form.headers["cache-control"] == "no-store"
    assert form.headers["referrer-policy"] == "no-referrer"
    done = _reset(client, token, NEW_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/login?notice=password-reset"
    assert "toutes les sessions sont fermées" in client.get(done.headers["location"]).text

    user = reloaded(session, User, tenant.admin.id)
    assert authenticate(session, email, NEW_PASSWORD).id == user.id
    with pytest.raises(WrongCredentials):
        authenticate(session, email, PASSWORD)
    # Every session and API token of the account is closed.
    assert session.exec(select(WebSession).where(WebSession.user_id == user.id)).all() == []
    assert all(t.revoked for t in session.exec(select(ApiToken)).all())
    assert other.get("/flows", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/flows", headers=tenant.headers).status_code == 401
    # The link works once.
    again = client.get(f"/password/reset/{token}")
    assert again.status_code == 404 and "ne fonctionne plus" in again.text
    assert _reset(client, token, "encore-un-autre-mot").status_code == 404
    assert authenticate(session, email, NEW_PASSWORD).id == user.id
    login(client, email, NEW_PASSWORD)


def test_the_answer_is_the_same_whether_the_address_has_an_account(
    client: TestClient, session: Session, smtp: SmtpServer
) -> None:
    user = create_user_row(session, Role.FACILITATOR, email="animatrice@eit.example")
    known = _ask(client, user.email)
    unknown = _ask(client, "personne@concurrent.example")
    assert known.status_code == unknown.status_code == 200
    assert _without_tokens(known.text) == _without_tokens(unknown.text)
    assert [m["To"] for m in smtp.inbox.messages] == [user.email]
    session.expire_all()
    assert len(session.exec(select(PasswordReset)).all()) == 1


def test_an_english_speaking_user_gets_the_mail_in_english(
    client: TestClient, session: Session, smtp: SmtpServer
) -> None:
    user = create_user_row(session, Role.FACILITATOR)
    row = reloaded(session, User, user.id)
    row.locale = "en"
    session.add(row)
    session.commit()
    _ask(client, user.email)
    message = smtp.inbox.to(user.email)[0]
    assert message["Subject"] == "Reset your Symbiose password"
    assert "The link works once" in _body(message)


def test_an_expired_link_changes_nothing(
    client: TestClient, session: Session, smtp: SmtpServer
) -> None:
    tenant = create_tenant(session)
    _ask(client, tenant.admin.email)
    token = _link_token(smtp, tenant.admin.email)
    session.expire_all()
    row = session.exec(select(PasswordReset)).one()
    assert row.expires_at - utcnow() <= timedelta(minutes=get_settings().password_reset_ttl_minutes)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert client.get(f"/password/reset/{token}").status_code == 404
    assert _reset(client, token, NEW_PASSWORD).status_code == 404
    assert authenticate(session, tenant.admin.email, PASSWORD).id == tenant.admin.id


def test_a_newer_link_replaces_the_older_one(
    client: TestClient, session: Session, smtp: SmtpServer
) -> None:
    tenant = create_tenant(session)
    _ask(client, tenant.admin.email)
    first = _link_token(smtp, tenant.admin.email)
    smtp.inbox.messages.clear()
    _ask(client, tenant.admin.email)
    second = _link_token(smtp, tenant.admin.email)
    assert first != second
    assert client.get(f"/password/reset/{first}").status_code == 404
    assert client.get(f"/password/reset/{second}").status_code == 200


def test_a_wrong_or_malformed_link_is_refused(client: TestClient) -> None:
    for token in ("nimportequoi", "x" * 300, "%00"):
        page = client.get(f"/password/reset/{token}")
        assert page.status_code == 404
        assert "ne fonctionne plus" in page.text


def test_bad_input_names_the_field_and_changes_nothing(
    client: TestClient, session: Session, smtp: SmtpServer
) -> None:
    tenant = create_tenant(session)
    email = tenant.admin.email
    empty = _ask(client, "")
    assert empty.status_code == 422 and 'id="error-email"' in empty.text
    assert _ask(client, "pas-une-adresse").status_code == 422
    assert smtp.inbox.messages == []

    _ask(client, email)
    token = _link_token(smtp, email)
    short = _reset(client, token, "court")
    assert short.status_code == 422
    assert 'id="error-password"' in short.text and "au moins 10 caractères" in short.text
    differ = _reset(client, token, NEW_PASSWORD, "une-autre-phrase-encore")
    assert differ.status_code == 422
    assert 'id="error-password_confirmation"' in differ.text
    assert "Les deux mots de passe diffèrent." in differ.text
    # Nothing changed: the old password still works, and so does the link.
    assert authenticate(session, email, PASSWORD).id == tenant.admin.id
    assert _reset(client, token, NEW_PASSWORD).status_code == 303


def test_a_form_without_its_csrf_token_is_refused(
    client: TestClient, session: Session, smtp: SmtpServer
) -> None:
    user = create_user_row(session, Role.FACILITATOR)
    client.get("/password/forgot")
    refused = client.post("/password/forgot", data={"email": user.email})
    assert refused.status_code == 403
    assert smtp.inbox.messages == []


def test_requests_are_rate_limited_alike_for_known_and_unknown_addresses(
    client: TestClient, session: Session, smtp: SmtpServer
) -> None:
    user = create_user_row(session, Role.FACILITATOR)
    limit = get_settings().password_resets_per_account
    for address in (user.email, "inconnu@ailleurs.example"):
        for _ in range(limit):
            assert _ask(client, address).status_code == 200
        refused = _ask(client, address)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert "Trop de demandes de réinitialisation" in refused.text
    # The owner got as many mails as allowed, no more.
    assert len(smtp.inbox.to(user.email)) == limit


def test_one_client_cannot_sweep_many_addresses(
    client: TestClient, session: Session, smtp: SmtpServer
) -> None:
    limit = get_settings().password_resets_per_address
    for n in range(limit):
        assert _ask(client, f"essai{n}@ailleurs.example").status_code == 200
    assert _ask(client, "encore@ailleurs.example").status_code == 429


def test_an_inactive_account_gets_no_link(
    client: TestClient, session: Session, smtp: SmtpServer
) -> None:
    tenant = create_tenant(session)
    bearer(session, tenant.admin)
    row = reloaded(session, User, tenant.admin.id)
    row.is_active = False
    session.add(row)
    session.commit()
    assert _ask(client, tenant.admin.email).status_code == 200
    assert smtp.inbox.messages == []


def test_one_link_used_at_once_by_eight_clients_resets_the_password_once(
    client: TestClient, session: Session, smtp: SmtpServer
) -> None:
    tenant = create_tenant(session)
    _ask(client, tenant.admin.email)
    token = _link_token(smtp, tenant.admin.email)

    def attempt(n: int) -> Call:
        form_token = new_login_token()
        return lambda c: c.post(
            f"/password/reset/{token}",
            data={
                "password": f"{NEW_PASSWORD}-{n}",
                "password_confirmation": f"{NEW_PASSWORD}-{n}",
                "csrf_token": form_token,
            },
            headers={"cookie": f"{LOGIN_CSRF_COOKIE}={form_token}"},
            follow_redirects=False,
        )

    answers = _burst([attempt(n) for n in range(8)])
    codes = sorted(a.status_code for a in answers)
    assert codes == [303] + [404] * 7, codes
    winner = next(n for n, a in enumerate(answers) if a.status_code == 303)
    session.expire_all()
    assert authenticate(session, tenant.admin.email, f"{NEW_PASSWORD}-{winner}")


def test_the_request_does_the_same_work_whether_the_address_has_an_account(
    client: TestClient, session: Session, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQL the request itself runs (tasks in their in-process pool, as the embedded default
    does) is the same for an account's address and for an unknown one: looking the account up,
    issuing the link and mailing it happen in the task, out of the answer's time."""
    user = create_user_row(session, Role.FACILITATOR)
    monkeypatch.setattr(get_settings(), "tasks_sync", False)
    engine = get_engine()
    seen: list[str] = []

    def record(*args: object) -> None:
        if not threading.current_thread().name.startswith("symbiose-task"):
            seen.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        runs = {}
        for address in (user.email, "personne@ailleurs.example"):
            form = token_in(client.get("/password/forgot").text)
            seen.clear()
            answer = client.post("/password/forgot", data={"email": address, "csrf_token": form})
            assert answer.status_code == 200
            runs[address] = list(seen)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert runs[user.email] == runs["personne@ailleurs.example"]
    assert not any("users" in s or "password_resets" in s for s in runs[user.email])
    # The task did its work all the same: the owner gets the link.
    deadline = time.monotonic() + 10
    while not smtp.inbox.to(user.email) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(smtp.inbox.to(user.email)) == 1


def test_the_reset_pages_speak_english_on_request(client: TestClient) -> None:
    forgot = client.get("/password/forgot?lang=en")
    assert "Forgot your password?" in forgot.text and "Send the link" in forgot.text
    assert "Mot de passe" not in forgot.text
    dead = client.get("/password/reset/nimportequoi?lang=en")
    assert dead.status_code == 404
    assert "This password reset link no longer works" in dead.text
    assert 'href="/password/forgot"' in dead.text
