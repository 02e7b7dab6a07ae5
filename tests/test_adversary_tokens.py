"""API tokens expire and can be revoked (part of property 10), played over HTTP: a leaked token
stops working by itself, and the company's administrator can kill it at once on every route."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from core.models import utcnow
from core.settings import get_settings
from marketplace.accounts.models import ApiToken, Role
from marketplace.accounts.service import forget_token_reads
from tests.factories import PASSWORD, create_tenant, create_user_row

ROUTES = ["/api/v1/me", "/api/v1/flows", "/api/v1/sites", "/api/v1/listings", "/api/v1/catalogue"]


def _token(client: TestClient, email: str, **extra: object) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD, **extra})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_an_expired_token_is_refused_on_every_route(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session, "Jeton Périmé SAS")
    headers = _token(client, tenant.admin.email)
    assert all(client.get(path, headers=headers).status_code == 200 for path in ROUTES)
    # The token's lifetime runs out (written as the clock would leave it).
    for row in session.exec(select(ApiToken)).all():
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    session.commit()
    # The public catalogue's reads remember a token for up to a second: let that second pass.
    forget_token_reads()
    assert {client.get(path, headers=headers).status_code for path in ROUTES} == {401}


def test_tokens_never_outlive_the_longest_lifetime(client: TestClient, session: Session) -> None:
    tenant = create_tenant(session, "Jeton Long SAS")
    longest = get_settings().api_token_max_age_days
    asked = client.post(
        "/api/v1/auth/token",
        json={"email": tenant.admin.email, "password": PASSWORD, "expires_in_days": 3650},
    )
    expires = asked.json()["expires_at"]
    short = client.post(
        "/api/v1/auth/token",
        json={"email": tenant.admin.email, "password": PASSWORD, "expires_in_days": 1},
    ).json()["expires_at"]
    now = utcnow()
    assert datetime.fromisoformat(expires) <= now + timedelta(days=longest, minutes=1)
    assert datetime.fromisoformat(short) <= now + timedelta(days=1, minutes=1)


def test_the_company_admin_revokes_a_member_token_at_once(
    client: TestClient, session: Session
) -> None:
    tenant = create_tenant(session, "Révocation SAS")
    member = create_user_row(session, Role.MEMBER, tenant.company)
    leaked = _token(client, member.email, token_name="erp")
    assert client.get("/api/v1/catalogue", headers=leaked).status_code == 200  # memo warmed up
    listed = client.get("/api/v1/tokens", headers=tenant.headers).json()
    target = next(t for t in listed if t["user_id"] == str(member.id) and t["name"] == "erp")
    revoked = client.post(f"/api/v1/tokens/{target['id']}/revoke", headers=tenant.headers)
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True
    assert {client.get(path, headers=leaked).status_code for path in ROUTES} == {401}


@pytest.mark.parametrize("intruder_role", [Role.MEMBER, Role.COMPANY_ADMIN])
def test_nobody_else_revokes_or_lists_a_token(
    client: TestClient, session: Session, intruder_role: Role
) -> None:
    owner = create_tenant(session, "Propriétaire SAS")
    other = create_tenant(session, "Intrus SAS")
    intruder = _token(client, create_user_row(session, intruder_role, other.company).email)
    tokens = client.get("/api/v1/tokens", headers=owner.headers).json()
    assert tokens
    assert all(
        t["id"] not in {x["id"] for x in client.get("/api/v1/tokens", headers=intruder).json()}
        for t in tokens
    )
    refused = client.post(f"/api/v1/tokens/{tokens[0]['id']}/revoke", headers=intruder)
    assert refused.status_code == 404
    assert client.get("/api/v1/me", headers=owner.headers).status_code == 200
