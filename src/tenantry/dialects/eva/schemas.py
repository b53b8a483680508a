"""eva's bodies. The list item and the page are the vendor's; the request bodies are designed from the
list item (see docs/dialects/eva.md)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from tenantry.core.fields import ConfigurationDocument, Email, Name, StorableStr

Uuid = Annotated[StorableStr, Field(min_length=1, max_length=200)]
EvaRole = Literal["SUPERVISOR", "EDITOR", "VIEWER"]
ImageUrl = Annotated[str, Field(max_length=2048, pattern=r"^https?://\S+$")]
Company = Annotated[StorableStr, Field(max_length=200)]


class ResourceRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uuid: Uuid


class NamedResource(BaseModel):
    uuid: str
    name: str


class EnvironmentGrant(BaseModel):
    """A role on one environment: SUPERVISOR on the whole environment, EDITOR and VIEWER on some of its bots."""

    model_config = ConfigDict(extra="forbid")
    role: EvaRole
    environment: ResourceRef
    bots: list[ResourceRef] = Field(default_factory=list, max_length=200)


class EnvironmentAccess(BaseModel):
    role: str
    environment: NamedResource
    bots: list[NamedResource]


class Rules(BaseModel):
    deletable: bool


class EvaUser(BaseModel):
    uuid: str
    name: str
    email: str
    company: str | None
    image: str | None
    admin: bool
    active: bool
    orgUUID: str
    createdAt: str
    rules: Rules
    environments: list[EnvironmentAccess]


class SortState(BaseModel):
    sorted: bool
    unsorted: bool
    empty: bool


class Pageable(BaseModel):
    paged: bool
    unpaged: bool
    pageNumber: int
    pageSize: int
    offset: int
    sort: SortState


class UserPage(BaseModel):
    """A Spring Data page."""

    content: list[EvaUser]
    totalPages: int
    totalElements: int
    numberOfElements: int
    size: int
    number: int
    first: bool
    last: bool
    empty: bool
    sort: SortState
    pageable: Pageable


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[Name, Field(min_length=1)]
    email: Email
    company: Company | None = None
    image: ImageUrl | None = None
    password: Annotated[StorableStr, Field(max_length=1024)] | None = Field(
        default=None, description="eva's rule; without one the user is invited."
    )
    admin: bool = False
    environments: list[EnvironmentGrant] = Field(default_factory=list, max_length=100)


class UserUpdate(BaseModel):
    """Only the fields given change; ``environments`` replaces every environment and bot grant."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[Name, Field(min_length=1)] | None = None
    email: Email | None = None
    company: Company | None = None
    image: ImageUrl | None = None
    admin: bool | None = None
    environments: list[EnvironmentGrant] | None = Field(default=None, max_length=100)


class Activation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uuid: Uuid
    active: bool


UserUuids = Annotated[list[Uuid], Field(min_length=1, max_length=500)]


class BulkDelete(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uuids: UserUuids


class BulkPermissions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    uuids: UserUuids
    environments: list[EnvironmentGrant] = Field(min_length=1, max_length=100)


class BulkDeleteResult(BaseModel):
    deleted: list[str]
    errors: list[dict[str, str]]


class BulkPermissionsResult(BaseModel):
    updated: list[str]
    errors: list[dict[str, str]]


class BulkCreateResult(BaseModel):
    errors: list[dict[str, str]] = Field(description='One `{"<email>": "<reason>"}` per row not created.')


class ConfigurationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    botUUID: Uuid | None = None
    configuration: ConfigurationDocument


class ConfigurationOut(BaseModel):
    uuid: str
    orgUUID: str
    userUUID: str
    botUUID: str | None
    configuration: dict[str, JsonValue]
    createdAt: str
    updatedAt: str
