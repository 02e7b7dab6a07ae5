"""Request and response models for companies and sites. Responses are explicit allow-lists."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StrictBool

from core.inputs import NOT_BOOLEAN, Code, EmailText, Label, Line, Name, NonBlankLabel, NonBlankName

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False), NOT_BOOLEAN]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False), NOT_BOOLEAN]


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(min_length=1)
    email: Annotated[EmailStr, EmailText] | None = None
    phone: Name | None = None  # room for an extension or a switchboard's words
    role: Name | None = None


class Identity(BaseModel):
    """What the vault seals for a company; only its members and the facilitator read it."""

    model_config = ConfigDict(extra="forbid")

    legal_name: Label = Field(min_length=2)
    siret: Code = Field(min_length=14)
    address: Line = ""
    contacts: list[Contact] = Field(default_factory=list, max_length=20)
    brands: list[NonBlankName] = Field(default_factory=list, max_length=20)


class CompanyCreate(Identity):
    nace: Code = Field(
        min_length=4,
        examples=["23.51Z", "23.51"],
        description="a NACE Rev. 2 class (23.51, 2351) or a NAF rév. 2 subclass (23.51Z, 2351Z)",
    )
    size_class: Code = Field(default="small", examples=["micro", "small", "medium", "large"])


class CompanyUpdate(BaseModel):
    """The fields to change; a field left out or null keeps its value."""

    model_config = ConfigDict(extra="forbid")

    legal_name: NonBlankLabel | None = None
    address: Line | None = None
    contacts: Annotated[list[Contact], Field(max_length=20)] | None = None
    brands: Annotated[list[NonBlankName], Field(max_length=20)] | None = None
    nace: Code | None = None  # a NACE class or NAF subclass, checked by the service
    size_class: Code | None = None


class CompanyRead(BaseModel):
    """A company as its own members (or the facilitator) see it."""

    id: uuid.UUID
    legal_name: str
    siret: str
    address: str
    contacts: list[Contact]
    brands: list[str]
    nace: str
    nace_label: str | None = Field(
        default=None, description="the sector's French label (NAF rév. 2), if the code is known"
    )
    size_class: str


# A receiving plant's regime under the ICPE law (installations classées): from the strictest.
ICPE_REGIMES = ("authorisation", "enregistrement", "declaration", "none")
IcpeRegime = Literal["authorisation", "enregistrement", "declaration", "none"]


class Permits(BaseModel):
    """The permits a site declares (shown as flags on its company's anonymized card when it
    asks for an introduction); `icpe_regime` null while undeclared."""

    icpe_regime: IcpeRegime | None = None
    receives_non_hazardous_waste: StrictBool = False
    receives_hazardous_waste: StrictBool = False
    animal_by_products_approved: StrictBool = Field(
        default=False, description="agrément sanitaire for animal by-products"
    )


class SiteCreate(Permits):
    model_config = ConfigDict(extra="forbid")

    name: Name = Field(min_length=1)
    latitude: Latitude
    longitude: Longitude
    commune: Name = ""


class SiteUpdate(BaseModel):
    """The fields to change; a field left out or null keeps its value."""

    model_config = ConfigDict(extra="forbid")

    name: NonBlankName | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    commune: Name | None = None
    # Set to a regime, or to null explicitly to undeclare it.
    icpe_regime: IcpeRegime | None = None
    receives_non_hazardous_waste: StrictBool | None = None
    receives_hazardous_waste: StrictBool | None = None
    animal_by_products_approved: StrictBool | None = None


class SiteRead(BaseModel):
    id: uuid.UUID
    company_id: uuid.UUID
    name: str
    latitude: float
    longitude: float
    commune: str
    departement_code: str
    region_code: str
    icpe_regime: str | None = None
    receives_non_hazardous_waste: bool = False
    receives_hazardous_waste: bool = False
    animal_by_products_approved: bool = False
