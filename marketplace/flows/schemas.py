"""Request and response models of flows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    field_validator,
)
from pydantic_core import PydanticCustomError

from core.inputs import (
    MAX_LABEL_LENGTH,
    MAX_MONEY_EUR,
    MAX_QUANTITY,
    MAX_QUANTITY_PER_YEAR,
    MONTHS_JSON_SCHEMA,
    NOT_BOOLEAN,
    Code,
    FreeText,
    Label,
    Money,
    Months,
    Name,
    NonBlankCode,
    NonBlankLabel,
    Quantity,
    kept,
    refuse_null_if_kept,
)
from marketplace.flows.models import (
    Direction,
    FlowStatus,
    Kind,
    Period,
    PhysicalState,
    Precision,
    Regularity,
)
from marketplace.flows.months import months_of, parse_months

# Bounds of the flow's own numbers (core.inputs gives the shared ones).
Temperature = Annotated[float, Field(ge=-200, le=2000, allow_inf_nan=False), NOT_BOOLEAN]
Power = Annotated[float, Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False), NOT_BOOLEAN]


def _months_text(value: Any, handler: ValidatorFunctionWrapHandler) -> list[int]:
    """Months as a list of numbers, or as text read by parse_months ("10-3", "janv.-mars, oct"):
    a part that is not a month is refused as its own case (UnknownMonth...), naming `months`."""
    if not isinstance(value, str):
        return list(handler(value))
    if len(value) > MAX_LABEL_LENGTH:
        raise PydanticCustomError(
            "string_too_long",
            "String should have at most {max_length} characters",
            {"max_length": MAX_LABEL_LENGTH},
        )
    return months_of(parse_months(value))


_MONTHS_TEXT_SCHEMA = {
    "type": "string",
    "maxLength": MAX_LABEL_LENGTH,
    "description": "ranges and lists, numbers or names in French or English: "
    "1-12, 10-3 (October to March), 1-5,10-12, 10;11;12, janv.-mars, oct-feb",
}
MonthsInput = Annotated[
    Months,
    WrapValidator(_months_text),
    WithJsonSchema({"anyOf": [MONTHS_JSON_SCHEMA, _MONTHS_TEXT_SCHEMA]}, mode="validation"),
]
MONTHS = "1 = January, each at most once; empty = all year; or text such as 10-3 or janv.-mars"

QUANTITY = (
    f"Declared quantity per period, > 0 and at most {MAX_QUANTITY:.0f}; its yearly quantity in "
    f"the kind's base unit is at most {MAX_QUANTITY_PER_YEAR:.0f}."
)
MONEY = f"Euros per unit, from 0 to {MAX_MONEY_EUR:.0f}."


class FlowFields(BaseModel):
    """Every field of step 1 (map the flows); shared by creation and import."""

    model_config = ConfigDict(extra="forbid")

    label: Label = Field(min_length=1)
    low_code: Code | None = Field(default=None, examples=["10 01 02"])
    hazardous: bool | None = Field(
        default=None, description="Derived from the LoW code; refused when it contradicts it."
    )
    physical_state: PhysicalState | None = None
    quantity: Quantity = Field(description=QUANTITY)
    unit: Code = Field(min_length=1, examples=["t", "MWh", "m3"])
    period: Period = Period.YEAR
    regularity: Regularity = Regularity.CONTINUOUS
    months: MonthsInput = Field(default_factory=list, description=MONTHS)
    temperature_c: Temperature | None = None
    medium: Code | None = None
    power_kw: Power | None = None
    water_quality: Name | None = None
    quality_spec: FreeText = ""
    precision: Precision = Precision.ESTIMATED
    current_operation: Code | None = Field(default=None, examples=["R 5", "D 1"])
    current_cost_eur_per_unit: Money | None = Field(default=None, description=MONEY)
    replaces_material: Label | None = None
    virgin_price_eur_per_unit: Money | None = Field(default=None, description=MONEY)
    description: FreeText = ""


class FlowCreate(FlowFields):
    site_id: uuid.UUID
    direction: Direction
    kind: Kind


class FlowUpdate(BaseModel):
    """The fields to change; a field left out keeps its value.

    `null` clears a field that may be empty: `low_code`, `hazardous` (derived from the code
    again), `physical_state`, `temperature_c`, `medium`, `power_kw`, `water_quality`,
    `current_operation`, `current_cost_eur_per_unit`, `replaces_material`,
    `virgin_price_eur_per_unit`. The other fields always hold a value: `null` is refused (422
    naming the field); an empty string clears `quality_spec` and `description`.
    """

    model_config = ConfigDict(extra="forbid")

    # kept(): None when left out; an explicit null is refused (refuse_null_if_kept).
    site_id: uuid.UUID | None = kept()
    label: NonBlankLabel | None = kept()
    low_code: Code | None = None
    hazardous: bool | None = None
    physical_state: PhysicalState | None = None
    quantity: Quantity | None = kept(description=QUANTITY)
    unit: NonBlankCode | None = kept()
    period: Period | None = kept()
    regularity: Regularity | None = kept()
    months: MonthsInput | None = kept(description=MONTHS)
    temperature_c: Temperature | None = None
    medium: Code | None = None
    power_kw: Power | None = None
    water_quality: Name | None = None
    quality_spec: FreeText | None = kept()
    precision: Precision | None = kept()
    current_operation: Code | None = None
    current_cost_eur_per_unit: Money | None = Field(default=None, description=MONEY)
    replaces_material: Label | None = None
    virgin_price_eur_per_unit: Money | None = Field(default=None, description=MONEY)
    description: FreeText | None = kept()

    @field_validator("*", mode="before")
    @classmethod
    def _kept_fields(cls, value: Any, info: ValidationInfo) -> Any:
        return refuse_null_if_kept(cls, value, info)


class FlowRead(BaseModel):
    """A flow as its owner (or the facilitator) sees it: never shown to another company."""

    id: uuid.UUID
    company_id: uuid.UUID
    site_id: uuid.UUID
    direction: Direction
    kind: Kind
    status: FlowStatus
    label: str
    low_code: str | None
    low_label_fr: str | None = None
    hazardous: bool
    physical_state: PhysicalState | None
    quantity: float
    unit: str
    period: Period
    quantity_per_year: float
    base_unit: str
    regularity: Regularity
    months: list[int]
    temperature_c: float | None
    medium: str | None
    power_kw: float | None
    water_quality: str | None
    quality_spec: str
    precision: Precision
    current_operation: str | None
    current_cost_eur_per_unit: float | None
    replaces_material: str | None
    virgin_price_eur_per_unit: float | None
    description: str
    created_at: datetime
    updated_at: datetime
