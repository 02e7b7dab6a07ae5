"""Companies and sites. A company's identity is only ever stored encrypted."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import UTCDateTime, new_id, utcnow


class Company(SQLModel, table=True):
    __tablename__ = "companies"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    # Legal name, SIRET, address, contacts, brands: JSON sealed with the company's data key.
    identity_ciphertext: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    wrapped_key: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    kek_id: str = Field(max_length=32)
    # HMAC of the SIRET: finds a company by SIRET without decrypting anything.
    siret_index: str = Field(max_length=64, unique=True, index=True)
    # HMAC of the SIREN (the legal unit, the SIRET's first nine digits), under its own purpose so
    # it cannot be joined with siret_index: k-anonymity and dominance count legal units, since
    # three establishments of one company are still one company to whoever reads the catalogue.
    legal_unit_index: str = Field(max_length=64, index=True)
    nace: str = Field(max_length=8)  # NAF rév. 2 code, e.g. "23.51Z"
    size_class: str = Field(max_length=8)  # micro | small | medium | large
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )


class Site(SQLModel, table=True):
    __tablename__ = "sites"
    __table_args__ = (sa.UniqueConstraint("company_id", "name_index"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    company_id: uuid.UUID = Field(foreign_key="companies.id", index=True)
    # The site's name can name the company ("Usine X de Y"): sealed, with a blind index for lookup.
    name_ciphertext: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    name_index: str = Field(max_length=64)
    latitude: float
    longitude: float
    commune: str = Field(default="", max_length=120)
    departement_code: str = Field(foreign_key="departements.code", max_length=3, index=True)
    region_code: str = Field(foreign_key="regions.code", max_length=3, index=True)
    # Fine H3 cell of the position: coarser cells come from it for generalisation.
    h3_cell: str = Field(max_length=16, index=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )
