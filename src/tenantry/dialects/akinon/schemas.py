"""The vendor's shapes: request bodies and the documents answered (camelCase, ``_id``, JavaScript dates).

Optional fields the vendor omits when empty (``language``, ``region``, ``avatarUrl``) are left unset and
the routes answer with ``response_model_exclude_unset``; fields that are null on purpose (``prevPage``,
``nextPage``, ``lastLoginAt``) are always set.
"""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, PlainSerializer, WithJsonSchema

MONGO_ID_PATTERN = r"^[0-9a-fA-F]{24}$"


def javascript_time(moment: datetime) -> str:
    """``Date.prototype.toJSON``: UTC, milliseconds, ``Z``."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


MongoId = Annotated[
    str,
    Field(pattern=MONGO_ID_PATTERN, description="Entity ID (matched in any letter case)"),
    AfterValidator(str.lower),
]
Date = Annotated[
    datetime,
    PlainSerializer(javascript_time, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "readOnly": True}),
]
Status = Literal[0, 1]


class _Document(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class UserDoc(_Document):
    """A user: ``status`` 1 active, 0 disabled; ``username`` is the email; the password is never answered."""

    id: str = Field(alias="_id")
    username: str
    firstName: str
    lastName: str
    status: Status
    language: str | None = Field(default=None, description="ISO 639-1 language code; omitted when unknown")
    region: str | None = Field(default=None, description="ISO 3166-1 alpha-2 region code; omitted when unknown")
    attributes: dict[str, JsonValue]
    avatarUrl: str | None = Field(default=None, description="Omitted when the user has none")
    settings: dict[str, JsonValue]
    lastLoginAt: Date | None = Field(description="null until the user first signs in")
    createdAt: Date
    updatedAt: Date


class OrganizationDoc(_Document):
    id: str = Field(alias="_id")
    name: str
    slug: str
    description: str
    owner: str | None = Field(description="The longest-standing owner; null when the organization has none")
    isExecutive: bool = False
    status: Status
    privileges: list[str] = Field(description="What roles of this organization may grant: the whole catalog")
    createdAt: Date
    updatedAt: Date


class RoleDoc(_Document):
    """A role the organization may grant; built-in roles appear as roles of every organization."""

    id: str = Field(alias="_id")
    name: str
    description: str
    organization: OrganizationDoc
    privileges: list[str] = Field(description='"<domain>:<action>"')
    status: Status
    createdAt: Date
    updatedAt: Date


class LinkedRoleDoc(_Document):
    """A role with its organization given by id (as the vendor's OrganizationUser embeds it)."""

    id: str = Field(alias="_id")
    name: str
    description: str
    organization: str
    privileges: list[str]
    status: Status
    createdAt: Date
    updatedAt: Date


class MemberDoc(UserDoc):
    """A user of the organization with the roles they hold there."""

    roles: list[RoleDoc]


class AddedMemberDoc(UserDoc):
    """The vendor's OrganizationUser: the user, the organization's id and the roles granted."""

    organization: str
    roles: list[LinkedRoleDoc]


class UserPage(BaseModel):
    """A mongoose-paginate-v2 page."""

    docs: list[UserDoc]
    totalDocs: int
    limit: int
    totalPages: int
    page: int
    pagingCounter: int = Field(description="Position of the page's first document, counting from 1")
    hasPrevPage: bool
    hasNextPage: bool
    prevPage: int | None
    nextPage: int | None


class OrgUserCreate(BaseModel):
    user: MongoId = Field(description="Id of an existing account")
    roles: list[MongoId] | None = Field(
        default=None, max_length=50, description="Role ids; omitted or empty: the built-in member role"
    )


class OrgUserRolesUpdate(BaseModel):
    roles: list[MongoId] = Field(max_length=50, description="Role ids; replaces the roles held here")


class ApiError(BaseModel):
    apiError: list[str]


class ValidationErrorBody(BaseModel):
    validationError: dict[str, str] = Field(description="Field (dotted path) -> why it is invalid")
