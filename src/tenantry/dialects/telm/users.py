"""``/{tenant}/users`` and ``/{tenant}/user/{user_email}``: telm's user administration on the core.

Parameters come in the query string, as the vendor documents (only assign takes a JSON body). Note the
singular ``user`` in the update and password paths: it is the vendor's.
"""

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.policy import OrgAccess, Policy, Target
from tenantry.core.fields import Email, Name
from tenantry.core.flows import resets
from tenantry.core.memberships import joining
from tenantry.core.memberships import service as memberships
from tenantry.core.users import password_change
from tenantry.core.users import service as users
from tenantry.core.users.schemas import MemberAdd, PasswordChange, UserCreate, UserUpdate
from tenantry.core.users.schemas import Password as PasswordValue
from tenantry.dialects.telm.access import (
    GRANTED_AS,
    UserEmail,
    telm_role,
    telm_user,
    tenant_access,
    tenant_user,
)
from tenantry.dialects.telm.errors import Message, documented
from tenantry.dialects.telm.schemas import Assignment, TelmRole, TelmUser
from tenantry.errors import FieldError, InvalidInput, NotFound
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/api/auth/auth/{tenant}", tags=["users"], route_class=UnitOfWorkRoute)

FirstName = Annotated[Name, Query(description="First name")]
LastName = Annotated[Name, Query(description="Last name")]
Role = Annotated[TelmRole, Query(description='"admin" / "user"')]
_PAGE = 500
_NEW_NAMES = {"current_password": "old-password", "new_password": "new-password", "password": "new-password"}


@router.get("/users", response_model=list[TelmUser], responses=documented(401, 403, 404, 422))
async def list_users(
    access: OrgAccess = Depends(tenant_access(Policy("users:read", partner=True))),
    session: AsyncSession = Depends(get_session),
) -> list[TelmUser]:
    """Get all users assigned to this tenant"""
    found: list[TelmUser] = []
    after: str | None = None
    while True:
        members, after = await users.page(session, access.org, after=after, limit=_PAGE)
        found.extend(telm_user(member) for member in members)
        if after is None:
            return found


@router.get("/users/{user_email}", response_model=TelmUser, responses=documented(401, 403, 404, 422))
async def get_user(target: Target = Depends(tenant_user(Policy("users:read", partner=True)))) -> TelmUser:
    """Get a user's details"""
    return telm_user(target.member)


@router.post("/users", response_model=Message, responses=documented(401, 403, 404, 409, 422))
async def create_user(
    email: Annotated[Email, Query(description="Email of the new user")],
    first_name: FirstName,
    last_name: LastName,
    role: Role,
    password: Annotated[
        PasswordValue | None, Query(description="Optional; without it the user is mailed a link to set one")
    ] = None,
    access: OrgAccess = Depends(tenant_access(Policy("users:create", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Message:
    """Create User"""
    payload = UserCreate(
        email=email, first_name=first_name, last_name=last_name, password=password, roles=[GRANTED_AS[role]]
    )
    await users.create(session, access.actor, access.org, payload, runtime.passwords, invite_with=runtime.flows)
    return Message(message="User was added successfully")


@router.put("/user/{user_email}", response_model=Message, responses=documented(401, 403, 404, 409, 422))
async def update_user(
    first_name: FirstName,
    last_name: LastName,
    role: Annotated[TelmRole, Query(description='"admin" / "user"; mandatory even when it does not change')],
    target: Target = Depends(tenant_user(Policy("users:update", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
) -> Message:
    """Update User details"""
    access, member = target.access, target.member
    if role != telm_role(member):
        memberships.ensure_may_change_roles(access.actor)
        await memberships.set_roles(session, access.actor, access.org, member, [GRANTED_AS[role]])
    profile = UserUpdate(first_name=first_name, last_name=last_name)
    await users.update(session, access.actor, access.org, member, profile)
    return Message(message="User was updated successfully")


@router.delete("/users/{user_email}", response_model=Message, responses=documented(401, 403, 404, 409, 422))
async def delete_user(
    target: Target = Depends(tenant_user(Policy("users:delete", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
) -> Message:
    """Delete user"""
    await memberships.remove(session, target.access.actor, target.access.org, target.member)
    return Message(message="User was deleted successfully")


@router.put("/users/{user_email}/assign", response_model=Message, responses=documented(401, 403, 404, 409, 422))
async def assign_user(
    user_email: UserEmail,
    assignment: Annotated[Assignment | None, Body(description='{"role": "admin" | "user"}')] = None,
    role: Annotated[TelmRole | None, Query(description="The role, when no body is sent")] = None,
    access: OrgAccess = Depends(tenant_access(Policy("users:create", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Message:
    """Assign user to tenant"""
    chosen = assignment.role if assignment is not None else role
    if chosen is None:
        raise InvalidInput([FieldError("role", "Field required")])
    try:
        payload = MemberAdd(email=user_email, roles=[GRANTED_AS[chosen]])
    except ValidationError:
        raise NotFound("user not found") from None
    await joining.add(session, access.actor, access.org, payload, runtime.flows)
    return Message(message="User was assigned successfully")


def _renamed(error: InvalidInput) -> InvalidInput:
    """The core's password fields under the vendor's parameter names."""
    renamed = [FieldError(_NEW_NAMES.get(item.field, item.field), item.message) for item in error.errors]
    return InvalidInput(renamed, keep_changes=error.keep_changes)


@router.put("/user/{user_email}/password", response_model=Message, responses=documented(401, 403, 404, 409, 422))
async def change_password(
    old_password: Annotated[PasswordValue, Query(alias="old-password", description="Current password")],
    new_password: Annotated[PasswordValue, Query(alias="new-password", description="New password")],
    target: Target = Depends(tenant_user(Policy(impersonation=False))),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Message:
    """Change Password for a specific user email"""
    access, member = target.access, target.member
    change = PasswordChange(current_password=old_password, new_password=new_password)
    try:
        await password_change.change_password(
            session, runtime.flows, access.actor, member.user, change, org=access.org, member=member
        )
    except InvalidInput as error:
        raise _renamed(error) from None
    return Message(message="User was updated successfully")


@router.delete("/user/{user_email}/password", response_model=Message, responses=documented(401, 403, 404, 409, 422))
async def reset_password(
    target: Target = Depends(tenant_user(Policy("users:set_password", impersonation=False, partner=True))),
    session: AsyncSession = Depends(get_session),
    runtime: Runtime = Depends(get_runtime),
) -> Message:
    """Reset Password"""
    await resets.send_reset_to_member(session, runtime.flows, target.access.actor, target.access.org, target.member)
    return Message(message="An email to reset the password was sent")
