"""The resources this service serves: scim2-models' User, Enterprise User and Group, with three departures
that real identity providers need (each is stated in docs/scim.md):

- ``emails.value`` is any text, not only a deliverable address: Okta's own examples use ``@okta.local``.
- ``manager.$ref`` is optional, and a bare string is read as the manager's id (Entra ID sends one).
- ``members.display`` is read-only: the service does not store it, so it never echoes one back.
"""

from typing import Annotated, Any, ClassVar

import scim2_models as scim
from pydantic import Field, model_validator
from scim2_models import ComplexAttribute, Mutability, Reference

USER_SCHEMA = str(scim.User.__schema__)
GROUP_SCHEMA = str(scim.Group.__schema__)
ENTERPRISE_SCHEMA = str(scim.EnterpriseUser.__schema__)


class Email(scim.Email):
    value: str | None = None
    """The address, stored as sent (internal domains such as ``corp.local`` are common)."""


class Manager(scim.Manager):
    ref: Annotated[Reference["User"] | None, Mutability.read_write] = Field(  # type: ignore[assignment]
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The URI of the manager's User resource (optional here)."""

    @model_validator(mode="before")
    @classmethod
    def _bare_id(cls, value: Any) -> Any:
        """Entra ID sends the manager as a plain string: the manager's id."""
        return {"value": value} if isinstance(value, str) else value


class EnterpriseUser(scim.EnterpriseUser):
    """Enterprise User"""

    manager: Manager | None = None


class User(scim.User):  # type: ignore[type-arg]
    """User Account"""

    emails: list[Email] | None = None  # type: ignore[assignment]
    Emails: ClassVar[type[ComplexAttribute]] = Email


class GroupMember(scim.GroupMember):
    display: Annotated[str | None, Mutability.read_only] = None


class Group(scim.Group):
    """Group"""

    members: list[GroupMember] | None = None  # type: ignore[assignment]
    Members: ClassVar[type[ComplexAttribute]] = GroupMember


UserResource: Any = User[EnterpriseUser]  # type: ignore[misc]

POLICY = scim.ScimPolicy(
    remove_value_as_filter=scim.ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=scim.ScimPolicy.UnmatchedPathFilter.create,
)
"""What PATCH tolerates, for Entra ID: a ``remove`` whose ``value`` lists what to remove, and a path
filter matching nothing (``emails[type eq "work"].value`` on a user without one) creating the entry."""
