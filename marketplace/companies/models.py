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
    # Exact position and commune, sealed with the company's data key (JSON: latitude, longitude,
    # commune): a copy of the database gives no position finer than the resolution-7 cell below.
    # Only the owner's and the facilitator's views and the origin of distance bands open it.
    position_ciphertext: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    departement_code: str = Field(foreign_key="departements.code", max_length=3, index=True)
    region_code: str = Field(foreign_key="regions.code", max_length=3, index=True)
    # The position's H3 cell at resolution 7 (~5 km²), the finest kept in clear: generalisation
    # takes its resolution-6 parent, and a cell that size holds many plants, not one.
    h3_cell: str = Field(max_length=16, index=True)
    # Permits a receiving plant declares (shown as flags on its anonymized card when it asks
    # for an introduction): its ICPE regime (authorisation, enregistrement, declaration, none;
    # null while undeclared), and what it is authorised to receive. Categories shared by many
    # plants, not identities: kept in clear.
    icpe_regime: str | None = Field(default=None, max_length=16)
    receives_non_hazardous_waste: bool = False
    receives_hazardous_waste: bool = False
    # Agrément sanitaire for animal by-products (regulation (EC) 1069/2009).
    animal_by_products_approved: bool = False
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False)
    )


class SiteMove(SQLModel, table=True):
    """One change of a site's position: counted against the daily move limits (each move is also
    an audit entry). Which position it moved to is not kept."""

    __tablename__ = "site_moves"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    site_id: uuid.UUID = Field(foreign_key="sites.id", index=True)
    company_id: uuid.UUID = Field(foreign_key="companies.id", index=True)
    moved_at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(UTCDateTime(), nullable=False, index=True)
    )
