"""An adversary against the contracts (issue 12): a competing member with several accounts, a
party trying to learn or change more than its contract gives it, a forger of signatures. Each
test is one attack and asserts the defence a user relies on; all use the real parts (database,
WeasyPrint, pyHanko, the platform's CA)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import threading
import uuid
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields
from pyhanko.sign.fields import SigFieldSpec, append_signature_field
from pypdf import PdfReader
from sqlmodel import Session, select

from contracts.authority import CertificateAuthority
from contracts.document import SIGNATURE_FIELDS
from contracts.signing import sign_pdf, verify_pdf
from contracts.terms import PartyRole, Terms
from core.settings import get_settings
from marketplace.accounts.models import Role, User
from marketplace.companies.models import Company
from marketplace.exchanges.models import Contract, ContractSignature, ContractVersion
from tests.conftest import TEST_DATABASE_URL, backend_name
from tests.exchange_world import (
    API,
    Deal,
    attach,
    draft,
    ok,
    propose,
    qualify_as_waste,
    ready,
    revealed_deal,
    sign,
)
from tests.factories import PASSWORD, bearer, create_user_row
from tests.symbiose_process import symbiose
from tests.test_web import login, token_in

# Headers that differ between any two answers, whatever they are about.
VOLATILE = {"date", "x-request-id", "x-response-time", "server-timing"}


def _trust() -> list[Any]:
    return [CertificateAuthority.load_or_create(get_settings().contracts_ca_dir).certificate]


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def _shape(answer: Any) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers, with the request's own id (fixed length) blanked out."""
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in VOLATILE}
    body = re.sub(rb'"request_id":"[0-9a-f]+"', b'"request_id":""', answer.content)
    return answer.status_code, body, headers


def _member(session: Session, company_id: uuid.UUID) -> dict[str, str]:
    """A plain member (no admin rights) of a party's company."""
    company = session.get(Company, company_id)
    assert company is not None
    return bearer(session, create_user_row(session, Role.MEMBER, company))


def _active(client: TestClient, deal: Deal) -> dict[str, Any]:
    contract = ready(client, deal)
    for headers in (deal.giver, deal.taker, deal.staff):
        contract = ok(sign(client, headers, contract))
    assert contract["state"] == "active"
    return contract


def _row(session: Session, contract_id: str) -> Contract:
    session.expire_all()
    row = session.get(Contract, uuid.UUID(contract_id))
    assert row is not None
    return row


# --- non-parties -----------------------------------------------------------------------------

GETS = (
    "",
    "/versions",
    "/versions/1",
    "/diff",
    "/comments",
    "/documents",
    "/status",
    "/pdf",
    "/pdf?lang=en",
    "/verify",
    "/deliveries",
    "/registers/outgoing",
    "/registers/incoming",
    "/registers/end_of_waste",
)
POSTS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("post", "/comments", {"body": "Bonjour"}),
    ("post", "/review", {}),
    ("post", "/ready", {}),
    ("post", "/sign", {"password": "x", "version": 1}),
    ("post", "/complete", {}),
    ("post", "/terminate", {}),
    ("put", "/status", {"answers": {"is_utility": True}, "evidence": []}),
    (
        "post",
        "/deliveries",
        {"delivered_on": date.today().isoformat(), "quantity": 1, "unit": "t"},
    ),
)


def test_another_company_cannot_tell_a_contract_from_one_that_never_existed(
    client: TestClient, session: Session
) -> None:
    """The third company, and the parties of another contract, get on every route the answer a
    never-existing id gets: same status, same body, same headers (the length included)."""
    deal = revealed_deal(client, session)
    contract = _active(client, deal)
    other = revealed_deal(client, session, tag=" B")
    foreign = draft(client, other)
    never = str(uuid.uuid4())
    before = _row(session, contract["id"]).version
    strangers = [deal.third, other.giver, other.taker, _member(session, other.w.owner.company_id)]
    for path in GETS:
        absent = _shape(client.get(f"{API}/{never}{path}", headers=deal.third))
        assert absent[0] == 404, (path, absent)
        for headers in strangers:
            answer = client.get(f"{API}/{contract['id']}{path}", headers=headers)
            assert _shape(answer) == absent, (path, answer.text)
    for method, path, body in POSTS:
        absent = _shape(
            client.request(method, f"{API}/{never}{path}", headers=deal.third, json=body)
        )
        assert absent[0] == 404, (path, absent)
        for headers in strangers:
            answer = client.request(
                method, f"{API}/{contract['id']}{path}", headers=headers, json=body
            )
            assert _shape(answer) == absent, (path, answer.text)
    # New terms and an upload: the same again, the size limit not even read.
    terms = {"terms": foreign["terms"], "base_version": 1, "note": ""}
    for headers in strangers:
        answer = client.post(f"{API}/{contract['id']}/versions", headers=headers, json=terms)
        absent = client.post(f"{API}/{never}/versions", headers=headers, json=terms)
        assert _shape(answer) == _shape(absent) and answer.status_code == 404
        upload = {"file": ("a.pdf", b"%PDF-1.4 x", "application/pdf")}
        answer = client.post(f"{API}/{contract['id']}/documents", headers=headers, files=upload)
        absent = client.post(f"{API}/{never}/documents", headers=headers, files=upload)
        assert _shape(answer) == _shape(absent) and answer.status_code == 404
    # A contract of theirs is listed to them, never this one.
    assert [c["id"] for c in ok(client.get(API, headers=other.giver))] == [foreign["id"]]
    assert ok(client.get(f"{API}?state=active", headers=deal.third)) == []
    assert _row(session, contract["id"]).version == before


@pytest.mark.parametrize(
    "shape",
    ["0", "1", "-1", "abc", "%2e%2e", "00000000-0000-0000-0000-000000000000", "x" * 300, "null"],
)
def test_odd_contract_ids_are_refused_without_a_500(
    client: TestClient, session: Session, shape: str
) -> None:
    deal = revealed_deal(client, session)
    for path in ("", "/pdf", "/verify", "/registers/outgoing"):
        answer = client.get(f"{API}/{shape}{path}", headers=deal.third)
        assert answer.status_code in (404, 422), (shape, path, answer.text)
        assert "error" in answer.json()


def test_a_member_without_admin_rights_reads_but_neither_signs_nor_changes(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    base = f"{API}/{contract['id']}"
    member = _member(session, deal.w.owner.company_id)
    assert ok(client.get(base, headers=member))["side"] == "giver"
    before = _row(session, contract["id"]).version
    refused = [
        sign(client, member, contract),
        propose(client, member, contract, quantity_per_year=1),
        client.post(f"{base}/terminate", headers=member),
        client.put(
            f"{base}/status",
            headers=member,
            json={"answers": {"is_utility": True}, "evidence": []},
        ),
        client.post(
            f"{base}/documents",
            headers=member,
            files={"file": ("a.pdf", b"%PDF-1.4 y", "application/pdf")},
        ),
    ]
    for answer in refused:
        assert answer.status_code == 403, answer.text
    row = _row(session, contract["id"])
    assert (row.state, row.version, row.current_version) == ("ready", before, 1)
    assert session.exec(select(ContractSignature)).all() == []


# --- a party reaching beyond its contract ----------------------------------------------------


def test_a_party_cannot_rename_or_replace_the_other_party(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    parties = contract["terms"]["parties"]
    for changed in (
        {"legal_name": "Cimenterie Fantôme SAS"},
        {"siret": "73282932000074"},
        {"role": "taker"},
        # Nor what the other party says of itself: where it is, who signs for it.
        {"address": "1 rue du Leurre, 59000 Lille"},
        {"site_name": "Dépôt du Leurre"},
        {"representative": "M. Leurre"},
    ):
        forged = [dict(parties[0]) | changed, *parties[1:]]
        answer = propose(client, deal.taker, contract, parties=forged)
        assert answer.status_code in (403, 422), answer.text
        assert answer.json().get("field", "").startswith("terms"), answer.text
    # Its own address and representative are its to state.
    own = [
        parties[0],
        dict(parties[1])
        | {"address": "2 quai du Port, 59140 Dunkerque", "representative": "Mme Vrai"},
        *parties[2:],
    ]
    assert propose(client, deal.taker, contract, parties=own).status_code == 201
    contract = ok(client.get(f"{API}/{contract['id']}", headers=deal.taker))
    parties = contract["terms"]["parties"]
    # Nor drop the association, whose countersignature makes the contract.
    answer = propose(client, deal.giver, contract, parties=parties[:2])
    assert answer.status_code in (403, 422), answer.text
    assert _row(session, contract["id"]).current_version == 2


def test_the_party_reads_only_what_the_reveal_gave(client: TestClient, session: Session) -> None:
    """The terms name the counterpart's company and the site of the flow exchanged; nothing of
    the third company, and no exact position of any site."""
    deal = revealed_deal(client, session)
    contract = _active(client, deal)
    base = f"{API}/{contract['id']}"
    for headers in (deal.giver, deal.taker):
        for path in ("", "/versions", "/comments", "/documents", "/pdf?lang=en", "/verify"):
            text = client.get(base + path, headers=headers).text
            assert not [s for s in deal.w.third.secrets if s in text], path
            for lat, lon in (deal.w.owner.position, deal.w.requester.position):
                assert f"{lat:.4f}" not in text and f"{lon:.4f}" not in text, path
    # The notices tell the parties which contract, and nothing to anyone else.
    assert ok(client.get(f"{API}/notices", headers=deal.third)) == []
    for notice in ok(client.get(f"{API}/notices", headers=deal.taker)):
        assert set(notice.values()) & set(deal.w.owner.secrets) == set()


# --- signatures ------------------------------------------------------------------------------


def test_signing_out_of_turn_twice_or_an_old_version_is_refused(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    # Before "ready": nothing to sign.
    assert sign(client, deal.giver, contract).status_code == 409
    qualify_as_waste(client, deal, contract["id"])
    ok(client.post(f"{API}/{contract['id']}/review", headers=deal.staff))
    contract = ok(client.post(f"{API}/{contract['id']}/ready", headers=deal.staff))
    # A version that never was, and one in the future.
    for version in (0, 2, 10_000):
        answer = client.post(
            f"{API}/{contract['id']}/sign",
            headers=deal.giver,
            json={"password": PASSWORD, "version": version},
        )
        assert answer.status_code in (409, 422), answer.text
    ok(sign(client, deal.giver, contract))
    # The same request replayed: one signature stands.
    assert sign(client, deal.giver, contract).status_code == 409
    # The association before the taker: refused.
    assert sign(client, deal.staff, contract).status_code == 409
    rows = session.exec(select(ContractSignature)).all()
    assert [r.role for r in rows] == ["giver"]
    # New terms: the giver's signature is void; replaying it on the old version is refused.
    changed = ok(propose(client, deal.taker, contract, quantity_per_year=900), 201)
    assert changed["signatures"] == []
    stale = sign(client, deal.giver, contract)
    assert stale.status_code == 409 and stale.json()["field"] in ("version", "state")
    ok(client.post(f"{API}/{contract['id']}/review", headers=deal.staff))
    fresh = ok(client.post(f"{API}/{contract['id']}/ready", headers=deal.staff))
    replay = sign(client, deal.giver, contract)  # version 1 replayed on version 2
    assert replay.status_code == 409 and replay.json()["field"] == "version"
    # The new PDF carries no signature at all: the old one did not travel.
    pdf = client.get(f"{API}/{contract['id']}/pdf", headers=deal.giver).content
    assert verify_pdf(pdf, _trust()).signatures == []
    assert fresh["terms"]["quantity_per_year"] == 900


def test_password_guessing_at_the_signature_is_limited(
    client: TestClient, session: Session
) -> None:
    """The password asked again at signing is no free oracle: past the login's failure limit,
    even the right password is refused (429) and nothing is signed."""
    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    limit = get_settings().login_failures_per_account
    for attempt in range(limit):
        wrong = sign(client, deal.giver, contract, password=f"guess-{attempt}")
        assert wrong.status_code == 403 and wrong.json()["field"] == "password"
    blocked = sign(client, deal.giver, contract)
    assert blocked.status_code == 429, blocked.text
    assert "retry-after" in {k.lower() for k in blocked.headers}
    assert _row(session, contract["id"]).state == "ready"
    assert session.exec(select(ContractSignature)).all() == []


def test_signing_without_a_password_or_with_an_empty_one_is_refused(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    url = f"{API}/{contract['id']}/sign"
    for body in ({"version": 1}, {"version": 1, "password": ""}, {"version": 1, "password": None}):
        answer = client.post(url, headers=deal.giver, json=body)
        assert answer.status_code in (403, 422), answer.text
        assert answer.json()["field"].endswith("password"), answer.text
    assert _row(session, contract["id"]).state == "ready"


def _signed_pdf(client: TestClient, deal: Deal) -> tuple[dict[str, Any], bytes]:
    contract = _active(client, deal)
    pdf = client.get(f"{API}/{contract['id']}/pdf", headers=deal.giver).content
    assert verify_pdf(pdf, _trust()).ok
    return contract, pdf


def _cli(tmp_path: Path, name: str, pdf: bytes) -> int:
    path = tmp_path / name
    path.write_bytes(pdf)
    ca = {"SYMBIOSE_CONTRACTS_CA_DIR": str(get_settings().contracts_ca_dir)}
    return symbiose(TEST_DATABASE_URL, "contracts", "verify", str(path), **ca).returncode


def _overlay(signed: bytes) -> bytes:
    """A new, empty signature field appended after the last signature, whose appearance paints
    a white box with other words over the signed first page."""
    name = generic.NameObject
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    append_signature_field(
        writer, SigFieldSpec(sig_field_name="Avenant", on_page=0, box=(50, 50, 400, 120))
    )
    font = generic.DictionaryObject(
        {
            name("/Type"): name("/Font"),
            name("/Subtype"): name("/Type1"),
            name("/BaseFont"): name("/Helvetica"),
        }
    )
    resources = generic.DictionaryObject(
        {name("/Font"): generic.DictionaryObject({name("/F1"): font})}
    )
    appearance = generic.StreamObject(
        {
            name("/Type"): name("/XObject"),
            name("/Subtype"): name("/Form"),
            name("/BBox"): generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 350, 70)]),
            name("/Resources"): resources,
        },
        stream_data=b"1 1 1 rg 0 0 350 70 re f 0 0 0 rg BT /F1 20 Tf 10 30 Td (PRIX : 0 EUR) Tj ET",
    )
    reference = writer.add_object(appearance)
    for field_name, _, field_ref in fields.enumerate_sig_fields(writer.prev, filled_status=None):
        if field_name == "Avenant":
            field = field_ref.get_object()
            field[name("/AP")] = generic.DictionaryObject({name("/N"): reference})
            writer.mark_update(field_ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_forgeries_of_a_signed_pdf_are_caught_by_verify_and_the_command(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    deal = revealed_deal(client, session)
    _, signed = _signed_pdf(client, deal)
    forgeries: dict[str, bytes] = {}

    # 1. An incremental update after the last signature that draws new text on the first page.
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    stream = generic.StreamObject(stream_data=b"BT /F1 30 Tf 60 60 Td (PRIX : 0 EUR) Tj ET")
    writer.add_stream_to_page(0, writer.add_object(stream))
    out = io.BytesIO()
    writer.write(out)
    forgeries["incremental"] = out.getvalue()

    # 2. A second, unsigned PDF appended after the signed one.
    other = client.get(f"{API}?state=active", headers=deal.giver).json()
    assert other
    english = client.get(f"{API}/{other[0]['id']}/pdf?lang=en", headers=deal.giver).content
    forgeries["appended"] = signed + b"\n" + english

    # 3. A fourth signature by a certificate of another CA, in a field of its own.
    rogue = CertificateAuthority.load_or_create(tmp_path / "rogue-ca")
    signer = rogue.issue(
        common_name="attaquant@example.fr",
        email="attaquant@example.fr",
        organisation="Structure d'animation du territoire",
        role="facilitator",
    )
    forgeries["rogue"] = sign_pdf(
        signed, signer, rogue, field="Avenant", reason="Avenant", name="attaquant"
    )

    # 4. One byte of the signed content changed.
    at = signed.index(b"stream") + 40
    forgeries["byte"] = signed[:at] + bytes([signed[at] ^ 0x20]) + signed[at + 1 :]

    # 5. An empty signature field added after the last signature, its appearance drawing
    # other words over the signed page (pyHanko's diff analysis lets a new field through).
    forgeries["overlay"] = _overlay(signed)

    for name, forged in forgeries.items():
        report = verify_pdf(forged, _trust())
        assert not report.ok, name
        assert _cli(tmp_path, f"{name}.pdf", forged) != 0, name
    assert _cli(tmp_path, "genuine.pdf", signed) == 0


def test_a_pdf_signed_entirely_by_another_ca_is_not_trusted(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    """A forger re-signs the unsigned contract with certificates that claim the three roles."""
    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    pdf = client.get(f"{API}/{contract['id']}/pdf", headers=deal.giver).content
    rogue = CertificateAuthority.load_or_create(tmp_path / "rogue-ca")

    for role in (PartyRole.GIVER, PartyRole.TAKER, PartyRole.FACILITATOR):
        signer = rogue.issue(
            common_name="x@example.fr", email="x@example.fr", organisation="X", role=role.value
        )
        pdf = sign_pdf(pdf, signer, rogue, field=SIGNATURE_FIELDS[role], reason="x", name="x")
    report = verify_pdf(pdf, _trust())
    assert not report.ok and all(not s.trusted for s in report.signatures)
    assert _cli(tmp_path, "rogue.pdf", pdf) != 0


def test_the_verify_endpoint_rejects_another_contracts_pdf_swapped_in(
    client: TestClient, session: Session
) -> None:
    """Someone with write access to the database puts another contract's validly signed PDF in
    place of this one's: every signature is the platform's, but none is this contract's."""
    deal = revealed_deal(client, session)
    first, _ = _signed_pdf(client, deal)
    other = revealed_deal(client, session, tag=" B")
    _, foreign_pdf = _signed_pdf(client, other)
    session.expire_all()
    version = session.exec(
        select(ContractVersion).where(ContractVersion.contract_id == uuid.UUID(first["id"]))
    ).one()

    version.pdf = base64.b64encode(foreign_pdf).decode()
    session.add(version)
    session.commit()
    report = ok(client.get(f"{API}/{first['id']}/verify", headers=deal.taker))
    assert not report["ok"] and report["reason"]
    assert not all(s["recorded"] for s in report["signatures"])


# --- terms -----------------------------------------------------------------------------------


def test_the_hash_fixed_at_ready_is_the_hash_of_the_terms_signed(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    terms = Terms.model_validate(contract["terms"])
    assert contract["terms_hash"] == terms.sha256()
    pdf = client.get(f"{API}/{contract['id']}/pdf", headers=deal.taker).content
    assert contract["terms_hash"] in _text(pdf).replace("\n", "")
    # Once frozen, the status and its evidence no longer move (they are printed in the PDF).
    status = {"answers": {"is_utility": True}, "evidence": []}
    moved = client.put(f"{API}/{contract['id']}/status", headers=deal.staff, json=status)
    assert moved.status_code == 409, moved.text
    signed = ok(sign(client, deal.giver, contract))
    assert signed["qualification"]["route"] == "waste"
    assert signed["terms_hash"] == contract["terms_hash"]
    stored = session.exec(
        select(ContractVersion).where(ContractVersion.contract_id == uuid.UUID(contract["id"]))
    ).one()
    assert Terms.model_validate_json(stored.terms).sha256() == contract["terms_hash"]


HOSTILE = (
    '<img src="file:///etc/passwd"><style>@import url("http://127.0.0.1:9/x.css");'
    'body{background:url("file:///etc/hostname")}</style><script>alert(1)</script>'
    '<link rel="attachment" href="file:///etc/passwd">'
)


def test_markup_in_the_terms_is_printed_as_text_and_fetches_nothing(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    changed = ok(
        propose(
            client,
            deal.taker,
            contract,
            quality_specification=HOSTILE[:3900],
            delivery_point="<b>Quai</b> url(file:///etc/passwd)",
        ),
        201,
    )
    for lang in ("fr", "en"):
        pdf = client.get(f"{API}/{changed['id']}/pdf?lang={lang}", headers=deal.giver).content
        text = _text(pdf)
        assert "root:" not in text and b"root:x:0" not in pdf
        assert "file:///etc/passwd" in text.replace("\n", "")
        reader = PdfReader(io.BytesIO(pdf))
        # Nothing attached to the file: WeasyPrint's <link rel=attachment> was not followed.
        assert not reader.attachments
    # Huge inputs are refused naming the field, before any rendering.
    too_long = propose(client, deal.taker, changed, quality_specification="x" * 100_000)
    assert too_long.status_code == 422 and "quality_specification" in too_long.json()["field"]


def test_register_cells_never_start_a_formula(client: TestClient, session: Session) -> None:
    deal = revealed_deal(client, session)
    contract = _active(client, deal)
    base = f"{API}/{contract['id']}"
    today = date.today().isoformat()
    payloads = [
        "=cmd|' /C calc'!A0",
        '+HYPERLINK("http://x")',
        "-2+3",
        "@SUM(1+1)",
        "\t=1+1",
        "=1;=2",
        "＝1+1",  # full-width signs, which some spreadsheets read as the ASCII ones
        "＋1",
    ]
    for number, payload in enumerate(payloads):
        made = client.post(
            f"{base}/deliveries",
            headers=deal.giver,
            json={
                "delivered_on": today,
                "quantity": 1 + number,
                "unit": "t",
                "lot": payload.replace("\t", " "),
                "carrier": payload.replace("\t", " "),
            },
        )
        assert made.status_code in (201, 422), made.text
    for register in ("outgoing", "incoming"):
        text = client.get(f"{base}/registers/{register}", headers=deal.taker)

        rows = list(csv.reader(io.StringIO(text.content.decode("utf-8-sig")), delimiter=";"))
        assert len(rows) > 1
        for row in rows[1:]:
            for cell in row:
                assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r", "＝", "＋"), row


def test_bad_uploads_are_refused_or_kept_inert(client: TestClient, session: Session) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    url = f"{API}/{contract['id']}/documents"
    empty = client.post(url, headers=deal.giver, files={"file": ("a.pdf", b"", "application/pdf")})
    assert empty.status_code == 422 and empty.json()["field"] == "file"
    big = b"%PDF" + b"0" * (10 * 1024 * 1024)
    large = client.post(url, headers=deal.giver, files={"file": ("b.pdf", big, "application/pdf")})
    assert large.status_code in (413, 422) and large.json()["field"] == "file", large.text
    # A zip bomb is kept as the bytes sent: never opened.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * (50 * 1024 * 1024))
    answer = client.post(
        url,
        headers=deal.giver,
        files={"file": ("../../../../etc/cron.d/evil", bomb.getvalue(), "application/zip")},
    )
    body = ok(answer, 201)
    assert body["size"] == len(bomb.getvalue())
    assert body["sha256"] == hashlib.sha256(bomb.getvalue()).hexdigest()
    assert not Path("/etc/cron.d/evil").exists()
    # A document of another contract cannot be cited as this one's evidence.
    other = revealed_deal(client, session, tag=" B")
    foreign = draft(client, other)
    sha = attach(client, other.staff, foreign["id"], b"%PDF-1.4 arrete d'un autre contrat")
    status = {
        "answers": {"is_utility": False, "recovered": False},
        "evidence": [
            {
                "condition": "waste.receiving_facility_authorised",
                "text": "Arrêté.",
                "document_sha256": sha,
            }
        ],
        "r_code": "R5",
    }
    cited = client.put(f"{API}/{contract['id']}/status", headers=deal.staff, json=status)
    assert cited.status_code == 422 and cited.json()["field"] == "evidence.0.document_sha256"


# --- the regulatory status -------------------------------------------------------------------


def _to_review(client: TestClient, deal: Deal, contract: dict[str, Any], status: Any) -> Any:
    base = f"{API}/{contract['id']}"
    answer = client.put(f"{base}/status", headers=deal.staff, json=status)
    if answer.status_code == 200:
        if ok(client.get(base, headers=deal.staff))["state"] == "draft":
            ok(client.post(f"{base}/review", headers=deal.staff))
        return client.post(f"{base}/ready", headers=deal.staff)
    return answer


def test_ready_is_refused_while_evidence_is_missing_or_borrowed(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    attempts = [
        # The waste route without the receiving facility's authorisation.
        {
            "answers": {"is_utility": False, "recovered": False},
            "evidence": [{"condition": "waste.registers", "text": "Registres tenus."}],
            "r_code": "R5",
        },
        # Evidence of the by-product route offered for the waste route.
        {
            "answers": {"is_utility": False, "recovered": False},
            "evidence": [
                {"condition": "by_product.further_use_certain", "text": "Contrat d'achat."},
                {"condition": "waste.registers", "text": "Registres tenus."},
            ],
            "r_code": "R5",
        },
        # Blank evidence.
        {
            "answers": {"is_utility": False, "recovered": False},
            "evidence": [
                {"condition": "waste.receiving_facility_authorised", "text": "   "},
                {"condition": "waste.registers", "text": "Registres tenus."},
            ],
            "r_code": "R5",
        },
        # The receiving facility's authorisation told, not attached: it needs its document.
        {
            "answers": {"is_utility": False, "recovered": False},
            "evidence": [
                {"condition": "waste.receiving_facility_authorised", "text": "Arrêté n° 42."},
                {"condition": "waste.registers", "text": "Registres tenus."},
            ],
            "r_code": "R5",
        },
        # A prefect's case-by-case decision claimed without the decision attached.
        {
            "answers": {"recovered": True, "case_by_case_decision": "Décision du 3 mars 2025"},
            "evidence": [
                {"condition": "end_of_waste.recovery_operation", "text": "Broyage."},
                {"condition": "end_of_waste.criteria", "text": "Critères de la décision."},
                {"condition": "end_of_waste.conformity_statement", "text": "Par lot."},
            ],
        },
        # An end-of-waste act outside the reference list.
        {
            "answers": {"recovered": True, "end_of_waste_act": "Arrêté imaginaire du 1er avril"},
            "evidence": [
                {"condition": "end_of_waste.recovery_operation", "text": "Broyage."},
                {"condition": "end_of_waste.criteria", "text": "Critères respectés."},
                {"condition": "end_of_waste.conformity_statement", "text": "Par lot."},
            ],
        },
    ]
    for status in attempts:
        answer = _to_review(client, deal, contract, status)
        assert answer.status_code == 422, answer.text
        assert answer.json().get("field"), answer.text
        assert _row(session, contract["id"]).state in ("draft", "review")


def test_a_hazardous_code_cannot_shed_its_tracking_slip(
    client: TestClient, session: Session
) -> None:
    """A party writes a hazardous code (absolute entry, marked *) with hazardous=false: refused
    naming the field, or the obligation is there all the same."""
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    answer = propose(client, deal.taker, contract, low_code="10 01 04*", hazardous=False)
    if answer.status_code == 201:
        contract = answer.json()
        qualify_as_waste(client, deal, contract["id"])
        decided = ok(client.get(f"{API}/{contract['id']}/status", headers=deal.giver))
        assert any(
            "bsd" in o["id"].lower() or "tracking" in o["id"] for o in decided["obligations"]
        )
    else:
        assert answer.status_code == 422 and answer.json()["field"].startswith("terms"), answer.text
    hazardous = ok(propose(client, deal.taker, contract, low_code="10 01 04*", hazardous=True), 201)
    qualify_as_waste(client, deal, hazardous["id"])
    decided = ok(client.get(f"{API}/{hazardous['id']}/status", headers=deal.giver))
    ids = " ".join(o["id"] for o in decided["obligations"])
    assert "tracking" in ids or "bsd" in ids.lower(), decided["obligations"]


# --- concurrency (PostgreSQL) ----------------------------------------------------------------


def _race(*calls: Any) -> list[Any]:
    start = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        answers[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.skipif(backend_name() != "postgresql", reason="row locks across connections")
def test_giver_and_taker_signing_at_once_both_land_in_the_pdf(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    answers = _race(
        lambda: sign(client, deal.giver, contract), lambda: sign(client, deal.taker, contract)
    )
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    row = _row(session, contract["id"])
    assert row.state == "signed"
    pdf = client.get(f"{API}/{contract['id']}/pdf", headers=deal.staff).content
    report = verify_pdf(pdf, _trust())
    assert report.ok and sorted(s.role or "" for s in report.signatures) == ["giver", "taker"]
    assert ok(client.get(f"{API}/{contract['id']}/verify", headers=deal.giver))["ok"]


@pytest.mark.skipif(backend_name() != "postgresql", reason="row locks across connections")
def test_new_terms_racing_a_signature_never_leave_a_signature_on_other_terms(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    answers = _race(
        lambda: sign(client, deal.giver, contract),
        lambda: propose(client, deal.taker, contract, quantity_per_year=700),
    )
    codes = sorted(a.status_code for a in answers)
    assert codes in ([200, 201], [201, 409]), [a.text for a in answers]
    row = _row(session, contract["id"])
    assert row.current_version == 2 and row.state == "draft"
    standing = session.exec(
        select(ContractSignature).where(ContractSignature.voided_at.is_(None))  # type: ignore[union-attr]
    ).all()
    assert standing == []
    version = session.exec(
        select(ContractVersion).where(
            ContractVersion.contract_id == row.id, ContractVersion.number == 2
        )
    ).one()
    assert version.pdf is None and version.frozen_at is None


# --- the pages -------------------------------------------------------------------------------


def _web_sign(web: TestClient, contract_id: str, password: str, version: int) -> Any:

    page = f"/contracts/{contract_id}/sign"
    form = web.get(page)
    assert form.status_code == 200, form.text
    return web.post(
        page,
        data={"csrf_token": token_in(form.text), "password": password, "version": str(version)},
        follow_redirects=False,
    )


def test_password_guesses_on_the_sign_page_lock_out_the_guesser_not_every_signer(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member guessing passwords on the sign page from its own address: past the per-address
    limit it is refused, but a signer of another company, from elsewhere, still signs. (The
    page once counted every failure under one shared "unknown" address, so a few accounts'
    failures blocked signing on the web for everyone.)"""
    from api.app import app

    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    monkeypatch.setattr(get_settings(), "login_failures_per_address", 3)

    def admin_email(company_id: uuid.UUID) -> str:
        user = session.exec(
            select(User).where(User.company_id == company_id, User.role == Role.COMPANY_ADMIN)
        ).first()
        assert user is not None
        return user.email

    with (
        TestClient(app, client=("203.0.113.7", 50000)) as attacker,
        TestClient(app, client=("198.51.100.9", 50000)) as signer,
    ):
        login(attacker, admin_email(deal.w.requester.company_id))
        login(signer, admin_email(deal.w.owner.company_id))
        for attempt in range(3):
            wrong = _web_sign(attacker, contract["id"], f"guess-{attempt}", 1)
            assert wrong.status_code == 403, wrong.text
        assert _web_sign(attacker, contract["id"], PASSWORD, 1).status_code == 429
        signed = _web_sign(signer, contract["id"], PASSWORD, 1)
        assert signed.status_code == 303, signed.text
    assert _row(session, contract["id"]).state == "signing"


def test_a_stranger_gets_no_contract_page_and_no_step_without_its_token(
    client: TestClient, session: Session
) -> None:
    from api.app import app

    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    third = session.exec(select(Company).where(Company.id == deal.w.third.company_id)).one()
    stranger = create_user_row(session, Role.COMPANY_ADMIN, third)
    page = f"/contracts/{contract['id']}"
    with TestClient(app) as web:
        login(web, stranger.email)
        for path in ("", "/sign", "/status", "/terms", "/deliveries", "/pdf", "/verification"):
            answer = web.get(page + path)
            assert answer.status_code == 404, (path, answer.status_code)
            assert not [s for s in deal.w.owner.secrets if s in answer.text], path
    with TestClient(app) as web:
        giver = session.exec(
            select(User).where(
                User.company_id == deal.w.owner.company_id, User.role == Role.COMPANY_ADMIN
            )
        ).first()
        assert giver is not None
        login(web, giver.email)
        # A forged form from another site: no CSRF token, nothing happens.
        forged = web.post(f"{page}/terminate", data={}, follow_redirects=False)
        assert forged.status_code in (400, 403), forged.text
    assert _row(session, contract["id"]).state == "ready"


def test_comments_are_bounded_and_shown_as_text(client: TestClient, session: Session) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    url = f"{API}/{contract['id']}/comments"
    huge = client.post(url, headers=deal.taker, json={"body": "x" * 1_000_000})
    assert huge.status_code == 422 and huge.json()["field"] == "body", huge.text[:200]
    markup = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    ok(client.post(url, headers=deal.taker, json={"body": markup}), 201)
    giver = session.exec(
        select(User).where(
            User.company_id == deal.w.owner.company_id, User.role == Role.COMPANY_ADMIN
        )
    ).first()
    assert giver is not None
    from api.app import app

    with TestClient(app) as web:
        login(web, giver.email)
        page = web.get(f"/contracts/{contract['id']}")
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;" in page.text


@pytest.mark.skipif(backend_name() != "postgresql", reason="row locks across connections")
def test_freezing_racing_new_terms_never_freezes_terms_other_than_the_current(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = draft(client, deal)
    qualify_as_waste(client, deal, contract["id"])
    ok(client.post(f"{API}/{contract['id']}/review", headers=deal.staff))
    answers = _race(
        lambda: client.post(f"{API}/{contract['id']}/ready", headers=deal.staff),
        lambda: propose(client, deal.taker, contract, quantity_per_year=650),
    )
    assert answers[1].status_code == 201, answers[1].text
    row = _row(session, contract["id"])
    assert row.current_version == 2
    current = session.exec(
        select(ContractVersion).where(
            ContractVersion.contract_id == row.id, ContractVersion.number == 2
        )
    ).one()
    if row.state == "ready":  # not possible after new terms: they send it back to draft
        pytest.fail("frozen after new terms")
    assert row.state == "draft" and current.pdf is None and current.frozen_at is None
    assert Terms.model_validate_json(current.terms).quantity_per_year == 650


@pytest.mark.skipif(backend_name() != "postgresql", reason="row locks across connections")
def test_two_facilitators_countersigning_at_once_count_once(
    client: TestClient, session: Session
) -> None:
    deal = revealed_deal(client, session)
    contract = ready(client, deal)
    ok(sign(client, deal.giver, contract))
    ok(sign(client, deal.taker, contract))
    colleague = bearer(session, create_user_row(session, Role.FACILITATOR))
    answers = _race(
        lambda: sign(client, deal.staff, contract), lambda: sign(client, colleague, contract)
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
    rows = session.exec(
        select(ContractSignature).where(ContractSignature.role == "facilitator")
    ).all()
    assert len(rows) == 1
    assert ok(client.get(f"{API}/{contract['id']}/verify", headers=deal.giver))["ok"]
