"""Core things in the vendor's shapes, and the vendor's requests as core ones."""

from tenantry.core.memberships.service import Member
from tenantry.core.roles.permissions import DEFAULT_ROLE
from tenantry.core.users.schemas import PasswordSet, UserCreate
from tenantry.dialects.saleschat.schemas import CreateUserReqDto, GetUserRespDto, UserPasswordReqDto


def user_create(request: CreateUserReqDto) -> UserCreate:
    """A Member whose email counts as confirmed (nothing is mailed); a password change at next login only
    when asked."""
    return UserCreate(
        email=request.email,
        first_name=request.first_name,
        last_name=request.last_name,
        password=request.password,
        roles=[DEFAULT_ROLE.name],
        email_verified=True,
        password_change_required=bool(request.ask_user_to_update_password_on_login),
    )


def password_reset(request: UserPasswordReqDto) -> PasswordSet:
    """The vendor's reset always makes the user change the password at next login."""
    return PasswordSet(password=request.password, require_change=True)


def user_item(member: Member) -> GetUserRespDto:
    user = member.user
    return GetUserRespDto(id=user.id, email=user.email, first_name=user.first_name, last_name=user.last_name)
