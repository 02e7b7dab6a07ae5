"""The text encoding of an imported CSV is read, or refused, never guessed (issue 8): a Shift-JIS
file read as Windows-1252 used to import with every Japanese name garbled."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from marketplace.companies.models import Company, Site
from marketplace.companies.service import site_name
from marketplace.flows.models import Flow
from marketplace.imports.errors import CellTooLong, EncodingUnsure, WorkbookTooLarge
from tests.test_import import (
    HEADER,
    SIRET_A,
    SIRET_B,
    counts,
    flows_by_label,
    import_file,
    staff_headers,
    upload,
)
from web.forms import explain
from web.i18n import translator

# Each of these Shift-JIS names also decodes as Windows-1252 ("ƒXƒ‰ƒO" for スラグ): only the
# detection can tell.
JAPANESE = (
    f"{HEADER}\n"
    f"株式会社名古屋,{SIRET_A},24.51Z,北海道,51.0343,2.3768,offer,material,10 01 02,"
    "スラグ,12,t,week,batch,,,鉄くず\n"
)
FRENCH = (
    f"{HEADER.replace(',', ';')}\n"
    f"Scierie Lefèvre & Fils;{SIRET_B};1610A;Scierie de l'Hôpital;48,6921;6,1844;offer;"
    "material;03 01 05;Copeaux de hêtre, sciure et œuvrés;35,5;t;month;continuous;;;"
    "Qualité « extra », 12 € la tonne\n"
)


def name_of_site(session: Session, flow: Flow) -> str:
    site = session.get(Site, flow.site_id)
    assert site is not None
    company = session.get(Company, site.company_id)
    assert company is not None
    return site_name(company, site)


def test_a_shift_jis_file_is_refused_as_of_unknown_encoding_not_garbled(
    client: TestClient, session: Session
) -> None:
    content = JAPANESE.encode("shift_jis")
    content.decode("cp1252")  # the trap: it would read, garbled
    response = upload(client, staff_headers(session), content)

    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == "file"
    assert "encoding" in body["detail"] and "could not be determined" in body["detail"]
    assert "UTF-8" in body["detail"]
    assert counts(session) == {"companies": 0, "sites": 0, "flows": 0, "jobs": 0}


def assert_imported(
    job: dict[str, Any], session: Session, label: str, description: str, site: str
) -> None:
    """The job wrote the flow with its text, and its site's name, exactly as typed."""
    assert job["status"] == "done", job["report"]
    flow = flows_by_label(session)[label]
    assert flow.description == description
    assert name_of_site(session, flow) == site


def test_a_shift_jis_file_imports_when_its_encoding_is_given(
    client: TestClient, session: Session
) -> None:
    content = JAPANESE.encode("shift_jis")
    job = import_file(client, staff_headers(session), content, encoding="shift_jis")
    assert_imported(job, session, "スラグ", "鉄くず", "北海道")


def test_the_same_file_saved_as_utf8_imports_without_being_told(
    client: TestClient, session: Session
) -> None:
    job = import_file(client, staff_headers(session), JAPANESE.encode("utf-8"))
    assert job["status"] == "done", job["report"]
    assert "スラグ" in flows_by_label(session)


def test_a_windows_1252_french_file_still_imports_with_its_accents(
    client: TestClient, session: Session
) -> None:
    job = import_file(client, staff_headers(session), FRENCH.encode("cp1252"))
    assert_imported(
        job,
        session,
        "Copeaux de hêtre, sciure et œuvrés",
        "Qualité « extra », 12 € la tonne",
        "Scierie de l'Hôpital",
    )


def test_a_wrong_or_unknown_explicit_encoding_is_refused_naming_the_encoding(
    client: TestClient, session: Session
) -> None:
    headers = staff_headers(session)
    unknown = upload(client, headers, FRENCH.encode("cp1252"), encoding="klingon-8")
    assert unknown.status_code == 422 and unknown.json()["field"] == "encoding"
    wrong = upload(client, headers, FRENCH.encode("cp1252"), encoding="utf-8")
    assert wrong.status_code == 422 and wrong.json()["field"] == "encoding"
    assert "byte" in wrong.json()["detail"]
    assert counts(session)["jobs"] == 0


def test_the_import_page_explains_these_refusals_in_french() -> None:
    french = translator("fr")
    assert explain(EncodingUnsure(), french).startswith("Le codage des caractères du fichier")
    cell = CellTooLong(line=3, number=10, column="J", count=32767)
    assert cell.detail.startswith("line 3, column 10 (J): the cell is longer than 32767 characters")
    assert explain(cell, french) == "Ligne 3, colonne J : la cellule dépasse 32767 caractères."
    workbook = WorkbookTooLarge(count=256, why="...")
    assert explain(workbook, french).startswith("Le classeur décompressé dépasse 256 Mo")
