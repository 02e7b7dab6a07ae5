"""Load the reference files into their tables (called by the migrations, idempotent)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from core.text import fold

DATA = Path(__file__).resolve().parent / "data"


def read_csv(name: str) -> Iterator[dict[str, str]]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def low_rows() -> list[dict[str, Any]]:
    rows = []
    for row in read_csv("list_of_waste.csv"):
        rows.append(
            {
                "code": row["code_compact"],
                "spaced": row["code"],
                "level": row["level"],
                "hazardous": row["hazardous"] == "true",
                "entry_type": row["entry_type"],
                "description_fr": row["description_fr"],
                "description_en": row["description_en"],
                "search_text": " ".join(
                    [
                        row["code_compact"],
                        fold(row["description_fr"]),
                        fold(row["description_en"]),
                    ]
                ),
            }
        )
    return rows


def load_reference_data(connection: Connection) -> None:
    """Replace the reference tables' content with the shipped files."""
    meta = sa.MetaData()
    tables = {
        name: sa.Table(name, meta, autoload_with=connection)
        for name in ("low_codes", "operations", "end_of_waste_acts", "regions", "departements")
    }
    deps = list(read_csv("departements.csv"))
    regions = {d["region_code"]: d["region_nom"] for d in deps}
    payload: dict[str, list[dict[str, Any]]] = {
        "low_codes": low_rows(),
        "operations": [
            {"code": r["code"], "type": r["type"], "description_fr": r["description_fr"]}
            for r in read_csv("recovery_disposal_operations.csv")
        ],
        "end_of_waste_acts": [
            {"reference": r["reference"], "description_fr": r["description_fr"]}
            for r in read_csv("end_of_waste_acts.csv")
        ],
        "regions": [{"code": c, "name": n} for c, n in sorted(regions.items())],
        "departements": [
            {"code": d["code"], "name": d["nom"], "region_code": d["region_code"]} for d in deps
        ],
    }
    # Upsert, never delete: flows and sites refer to these rows, and a newer file may only add or
    # correct entries.
    keys = {
        "low_codes": "code",
        "operations": "code",
        "end_of_waste_acts": "reference",
        "regions": "code",
        "departements": "code",
    }
    for name in ("regions", "departements", "low_codes", "operations", "end_of_waste_acts"):
        table, key = tables[name], keys[name]
        existing = {row[0] for row in connection.execute(sa.select(table.c[key]))}
        fresh = [r for r in payload[name] if r[key] not in existing]
        stale = [r for r in payload[name] if r[key] in existing]
        if fresh:
            connection.execute(table.insert(), fresh)
        for row in stale:
            connection.execute(table.update().where(table.c[key] == row[key]).values(**row))


def parent_of(code: str) -> str | None:
    """A NAF code's parent: ``23.51Z`` → ``23.51`` → ``23.5`` → ``23`` → None."""
    if len(code) == 6:
        return code[:5]
    if len(code) == 5:
        return code[:4]
    if len(code) == 4:
        return code[:2]
    return None


def sector_rows() -> list[dict[str, Any]]:
    return [
        {
            "code": row["code"],
            "level": row["level"],
            "parent": parent_of(row["code"]),
            "label_fr": row["label_fr"],
            "label_en": None,
        }
        for row in read_csv("naf_rev2.csv")
    ]


def load_sectors(connection: Connection) -> None:
    """Upsert the NAF rév. 2 nomenclature into `sectors` (migration 0005; idempotent)."""
    table = sa.Table("sectors", sa.MetaData(), autoload_with=connection)
    existing = {row[0] for row in connection.execute(sa.select(table.c.code))}
    rows = sector_rows()
    fresh = [r for r in rows if r["code"] not in existing]
    if fresh:
        connection.execute(table.insert(), fresh)
    for row in rows:
        if row["code"] in existing:
            connection.execute(table.update().where(table.c.code == row["code"]).values(**row))
