"""Core <-> SCIM: a member as a SCIM User, a role as a SCIM Group, and back to what the core stores.

The account gives ``userName`` (its email) and ``name.givenName``/``familyName``; the membership gives
``active``, ``externalId`` and the profile (every other attribute, stored as sent); the roles held give
``groups``. A Group is a role: ``displayName`` is its name, ``members`` the users holding it here.
"""

from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from scim2_models import Context, Group, ResponseParameters

from tenantry.core.memberships.service import Member
from tenantry.core.provisioning.schemas import MemberProvision, RoleProvision, RoleState
from tenantry.core.provisioning.service import is_active
from tenantry.core.roles.models import Role
from tenantry.errors import FieldError, InvalidInput
from tenantry.scim.http import etag
from tenantry.scim.models import ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, UserResource
from tenantry.scim.models import Group as GroupResource

Provision = TypeVar("Provision", bound=BaseModel)
_NOT_PROFILE = {"schemas", "id", "externalId", "meta", "userName", "active", "password", "groups"}


def _validated(model: type[Provision], values: dict[str, Any]) -> Provision:
    """Core validation; its errors name core fields, which the error handler turns into SCIM attributes."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise InvalidInput(
            [
                FieldError(".".join(str(part) for part in item["loc"]), item["msg"].removeprefix("Value error, "))
                for item in error.errors()
            ]
        ) from None


def user_version(member: Member) -> str:
    return etag(f"{member.user.version}.{member.membership.version}")


def group_version(state: RoleState | None) -> str:
    return etag(str(state.version if state else 1))


def _later(*moments: datetime | None) -> datetime:
    return max(moment for moment in moments if moment is not None)


def user_resource(member: Member, base: str) -> Any:
    """The member as a validated SCIM User (with the enterprise extension when it has values)."""
    user, membership = member.user, member.membership
    document: dict[str, Any] = dict(membership.profile)
    name = dict(document.pop("name", None) or {})
    if user.first_name:
        name["givenName"] = user.first_name
    if user.last_name:
        name["familyName"] = user.last_name
    location = f"{base}/Users/{user.id}"
    document.update(
        schemas=[USER_SCHEMA, *([ENTERPRISE_SCHEMA] if ENTERPRISE_SCHEMA in document else [])],
        id=user.id,
        userName=user.email,
        active=is_active(member),
        groups=[{"value": role.id, "$ref": f"{base}/Groups/{role.id}", "type": "direct"} for role in member.roles],
        meta={
            "resourceType": "User",
            "created": membership.created_at,
            "lastModified": _later(user.updated_at, membership.updated_at),
            "location": location,
            "version": user_version(member),
        },
    )
    if membership.external_id is not None:
        document["externalId"] = membership.external_id
    if name:
        document["name"] = name
    return UserResource.model_validate(document)


def member_provision(resource: Any) -> MemberProvision:
    """What the core stores of a User resource (validated there: userName must be an email)."""
    document: dict[str, Any] = resource.model_dump()
    profile = {key: value for key, value in document.items() if key not in _NOT_PROFILE}
    name = dict(profile.pop("name", None) or {})
    first_name, last_name = name.pop("givenName", None), name.pop("familyName", None)
    if name:
        profile["name"] = name
    return _validated(
        MemberProvision,
        {
            "email": resource.user_name or "",
            "first_name": first_name or "",
            "last_name": last_name or "",
            "external_id": resource.external_id,
            "profile": profile,
            "active": resource.active,
            "password": resource.password,
        },
    )


def group_resource(role: Role, state: RoleState | None, member_ids: list[str] | None, base: str) -> GroupResource:
    """The role as a SCIM Group; ``member_ids`` None leaves ``members`` out (not asked for)."""
    location = f"{base}/Groups/{role.id}"
    document: dict[str, Any] = {
        "schemas": [GROUP_SCHEMA],
        "id": role.id,
        "displayName": role.name,
        "meta": {
            "resourceType": "Group",
            "created": role.created_at,
            "lastModified": _later(role.updated_at, state.updated_at if state else None),
            "location": location,
            "version": group_version(state),
        },
    }
    if state is not None and state.external_id is not None:
        document["externalId"] = state.external_id
    if member_ids is not None:
        document["members"] = [
            {"value": user_id, "$ref": f"{base}/Users/{user_id}", "type": "User"} for user_id in member_ids
        ]
    return GroupResource.model_validate(document)


def role_provision(resource: Group) -> RoleProvision:
    return _validated(RoleProvision, {"name": resource.display_name or "", "external_id": resource.external_id})


def member_ids(resource: Group) -> set[str]:
    return {member.value for member in resource.members or [] if member.value}


def wants_members(parameters: ResponseParameters[Any] | None) -> bool:
    """Whether an answer shows ``members`` (listing them costs a query per page, so only when asked)."""
    if parameters is None:
        return True
    named = {str(path).lower().rpartition(":")[2].split(".")[0] for path in parameters.attributes or []}
    excluded = {str(path).lower().rpartition(":")[2].split(".")[0] for path in parameters.excluded_attributes or []}
    return "members" in named if parameters.attributes else "members" not in excluded


def dump(resource: Any, parameters: ResponseParameters[Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=parameters)
    return body
