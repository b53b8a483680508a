"""Who may call what: the caller, the organization in the path and the user in the path, in that order.

401 without valid credentials, then 400 for an id that is not a MongoId, then 403 for an organization
the caller cannot act in (or a missing permission), then 404 for a user who is not a member.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request

from tenantry.auth.policy import OrgAccess, Policy, Target, org_member
from tenantry.auth.principal import Principal, current_principal
from tenantry.dialects.akinon.errors import MALFORMED_ID
from tenantry.dialects.akinon.listing import MONGO_ID
from tenantry.dialects.akinon.schemas import MONGO_ID_PATTERN
from tenantry.errors import FieldError, InvalidInput
from tenantry.web.targets import member, org_target

PATH_IDS = ("organizationId", "userId")


async def checked_path_ids(request: Request, _: Principal = Depends(current_principal)) -> None:
    """400 for a malformed id before anything is looked up; ids are then used in lower case, since
    MongoDB reads ObjectIds in either case and Tenantry's ids are lower case."""
    present = {name: request.path_params[name] for name in PATH_IDS if name in request.path_params}
    malformed = [FieldError(name, MALFORMED_ID) for name, value in present.items() if not MONGO_ID.fullmatch(value)]
    if malformed:
        raise InvalidInput(malformed)
    for name, value in present.items():
        request.path_params[name] = value.lower()


def org_access(policy: Policy) -> Callable[..., Awaitable[OrgAccess]]:
    """The organization ``{organizationId}`` and the caller's rights there, checked against ``policy``."""
    member_of = org_member(policy, path_param="organizationId")

    async def dependency(_: None = Depends(checked_path_ids), access: OrgAccess = Depends(member_of)) -> OrgAccess:
        return access

    return dependency


UserId = Annotated[str, Path(alias="userId", pattern=MONGO_ID_PATTERN, description="User ID")]


def org_user(policy: Policy) -> Callable[..., Awaitable[Target]]:
    """``org_access`` and then the member ``{userId}`` (404 for anyone who is not a member)."""
    return org_target(org_access(policy), member, ref=UserId)
