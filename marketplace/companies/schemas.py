"""Request and response models for companies and sites. Responses are explicit allow-lists."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, max_length=40)
    role: str | None = Field(default=None, max_length=80)


class Identity(BaseModel):
    """What the vault seals for a company; only its members and the facilitator read it."""

    model_config = ConfigDict(extra="forbid")

    legal_name: str = Field(min_length=2, max_length=200)
    siret: str = Field(min_length=14, max_length=20)
    address: str = Field(default="", max_length=300)
    contacts: list[Contact] = Field(default_factory=list, max_length=20)
    brands: list[str] = Field(default_factory=list, max_length=20)


class CompanyCreate(Identity):
    nace: str = Field(min_length=4, max_length=8, examples=["23.51Z"])
    size_class: str = Field(default="small", examples=["micro", "small", "medium", "large"])


class CompanyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    legal_name: str | None = Field(default=None, min_length=2, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    contacts: list[Contact] | None = Field(default=None, max_length=20)
    brands: list[str] | None = Field(default=None, max_length=20)
    nace: str | None = Field(default=None, min_length=4, max_length=8)
    size_class: str | None = None


class CompanyRead(BaseModel):
    """A company as its own members (or the facilitator) see it."""

    id: uuid.UUID
    legal_name: str
    siret: str
    address: str
    contacts: list[Contact]
    brands: list[str]
    nace: str
    size_class: str


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    commune: str = Field(default="", max_length=120)


class SiteUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    commune: str | None = Field(default=None, max_length=120)


class SiteRead(BaseModel):
    id: uuid.UUID
    company_id: uuid.UUID
    name: str
    latitude: float
    longitude: float
    commune: str
    departement_code: str
    region_code: str
