"""Core things in the vendor's shapes."""

from tenantry.core.memberships.service import Member
from tenantry.core.orgs.models import Organization
from tenantry.core.roles.models import Role
from tenantry.core.roles.permissions import ALL_PERMISSIONS
from tenantry.core.roles.service import permissions_of
from tenantry.core.users.models import USER_DISABLED, User
from tenantry.core.users.service import displayed_status
from tenantry.dialects.akinon.schemas import (
    AddedMemberDoc,
    LinkedRoleDoc,
    MemberDoc,
    OrganizationDoc,
    RoleDoc,
    UserDoc,
)

ACTIVE, DISABLED = 1, 0


def language_of(locale: str | None) -> str | None:
    """The language subtag of a locale (``pt-BR`` -> ``pt``): the vendor keeps ISO 639-1 codes."""
    if not locale:
        return None
    return locale.replace("_", "-").split("-", 1)[0].lower()


def _user_fields(user: User, *, disabled: bool, attributes: dict[str, object]) -> dict[str, object]:
    fields: dict[str, object] = {
        "id": user.id,
        "username": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "status": DISABLED if disabled else ACTIVE,
        "attributes": attributes,
        "settings": user.settings,
        "lastLoginAt": user.last_login_at,
        "createdAt": user.created_at,
        "updatedAt": user.updated_at,
    }
    optional = {"language": language_of(user.locale), "region": user.region, "avatarUrl": user.avatar_url}
    fields.update({name: value for name, value in optional.items() if value is not None})
    return fields


def account_doc(user: User) -> UserDoc:
    """An account seen from outside any organization (search results): disabled only when the account is; no
    organization's attributes."""
    return UserDoc.model_validate(_user_fields(user, disabled=user.status == USER_DISABLED, attributes={}))


def _member_fields(member: Member) -> dict[str, object]:
    """The member's account fields and the organization's own attributes (an invited member who has not
    accepted yet: its id and email, every other field empty)."""
    disabled = displayed_status(member.user, member.membership) == "disabled"
    return _user_fields(member.user, disabled=disabled, attributes=member.membership.attributes)


def member_user_doc(member: Member) -> UserDoc:
    """A member as a User: disabled when the account or the membership is."""
    return UserDoc.model_validate(_member_fields(member))


def organization_doc(org: Organization, owner_id: str | None) -> OrganizationDoc:
    return OrganizationDoc(
        id=org.id,
        name=org.name,
        slug=org.slug,
        description=org.description or "",
        owner=owner_id,
        isExecutive=False,
        status=ACTIVE,
        privileges=sorted(ALL_PERMISSIONS),
        createdAt=org.created_at,
        updatedAt=org.updated_at,
    )


def _role_fields(role: Role) -> dict[str, object]:
    return {
        "id": role.id,
        "name": role.name,
        "description": role.description,
        "privileges": sorted(permissions_of(role)),
        "status": ACTIVE,
        "createdAt": role.created_at,
        "updatedAt": role.updated_at,
    }


def member_doc(member: Member, organization: OrganizationDoc) -> MemberDoc:
    """A member with the roles they hold, each role with its organization in full."""
    roles = [RoleDoc.model_validate({**_role_fields(role), "organization": organization}) for role in member.roles]
    return MemberDoc.model_validate({**_member_fields(member), "roles": roles})


def added_member_doc(member: Member, org: Organization) -> AddedMemberDoc:
    """The vendor's OrganizationUser: the member, the organization's id, the roles with that id."""
    roles = [LinkedRoleDoc.model_validate({**_role_fields(role), "organization": org.id}) for role in member.roles]
    return AddedMemberDoc.model_validate({**_member_fields(member), "organization": org.id, "roles": roles})
