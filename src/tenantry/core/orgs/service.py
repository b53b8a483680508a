"""Organizations: create, change and delete."""

from sqlalchemy import delete as delete_rows
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.apikeys.models import ApiKey
from tenantry.core.audit.service import record
from tenantry.core.credentials.policy import policy_for, with_policy
from tenantry.core.memberships import service as membership_rules
from tenantry.core.memberships.models import Membership
from tenantry.core.orgs import branding, repository
from tenantry.core.orgs.models import DEFAULT_LANGUAGE, MFA_REQUIRED, ORG_DELETED, SCIM_SEND_INVITATIONS, Organization
from tenantry.core.orgs.schemas import OrgCreate, OrgUpdate
from tenantry.core.partners import repository as partner_links
from tenantry.core.partners import revocation
from tenantry.core.roles.models import Role
from tenantry.core.roles.permissions import OWNER
from tenantry.core.users.models import User
from tenantry.db.base import utcnow
from tenantry.errors import Conflict, OrganizationNotFound


async def get(session: AsyncSession, ref: str) -> Organization:
    """A live organization by id or slug; 404 otherwise."""
    org = await repository.get_by_ref(session, ref)
    if org is None:
        raise OrganizationNotFound("organization not found")
    return org


async def find(session: AsyncSession, ref: str) -> Organization | None:
    """A live organization by id or slug, if any (for callers that answer its absence their own way)."""
    return await repository.get_by_ref(session, ref)


def _slug_conflict(slug: str) -> Conflict:
    return Conflict(f"an organization with slug {slug!r} already exists")


async def _flush_unique_slug(session: AsyncSession, slug: str) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        raise _slug_conflict(slug) from error


async def create(session: AsyncSession, actor: Actor, payload: OrgCreate, owner: User | None) -> Organization:
    """Create an organization; ``owner`` (usually the creator) becomes its first owner."""
    if await repository.slug_taken(session, payload.slug):
        raise _slug_conflict(payload.slug)
    org = Organization(slug=payload.slug, name=payload.name, description=payload.description)
    session.add(org)
    await _flush_unique_slug(session, payload.slug)
    if owner is not None:
        owner_role = await session.get_one(Role, OWNER.id)
        await membership_rules.create(session, org, owner, [owner_role])
    record(session, actor, "org.created", org_id=org.id, target_type="org", target_id=org.id)
    return org


async def update_org(session: AsyncSession, actor: Actor, org: Organization, payload: OrgUpdate) -> Organization:
    changes = payload.model_dump(exclude_unset=True)
    if "mfa_required" in changes:
        kept = {key: value for key, value in org.settings.items() if key != MFA_REQUIRED}
        org.settings = {**kept, MFA_REQUIRED: True} if changes.pop("mfa_required") else kept
    if "password_policy" in changes:
        del changes["password_policy"]
        update = payload.password_policy
        org.settings = with_policy(org.settings, update.applied_to(policy_for(org)) if update is not None else None)
    if "scim_send_invitations" in changes:
        org.settings = {**org.settings, SCIM_SEND_INVITATIONS: changes.pop("scim_send_invitations")}
    if "default_language" in changes:
        language = changes.pop("default_language")
        kept = {key: value for key, value in org.settings.items() if key != DEFAULT_LANGUAGE}
        org.settings = {**kept, DEFAULT_LANGUAGE: language} if language else kept
    if "branding" in changes:
        del changes["branding"]
        await branding.update(session, org, payload.branding)
    if payload.slug is not None and payload.slug != org.slug and await repository.slug_taken(session, payload.slug):
        raise _slug_conflict(payload.slug)
    for field, value in changes.items():
        setattr(org, field, value)
    org.updated_at = utcnow()
    await _flush_unique_slug(session, org.slug)
    record(
        session,
        actor,
        "org.updated",
        org_id=org.id,
        target_type="org",
        target_id=org.id,
        details={"fields": sorted(payload.model_fields_set)},
    )
    return org


async def delete(session: AsyncSession, actor: Actor, org: Organization) -> None:
    """Soft-delete the organization: its memberships go, its keys are revoked, orphaned accounts are deleted
    (of its members: an account it only invited was never its own); the links it was granted end as revocations
    in each customer (``partners.revocation.end_links_to``).

    The organization's row is held first (``repository.Hold.DELETION``): a member being added or changed
    meanwhile is stored before the members are read here, or waits and then finds the organization gone. A
    user created after the read kept a membership in the deleted organization, and a live account in none."""
    if not await repository.hold(session, org.id, repository.Hold.DELETION):
        raise OrganizationNotFound("organization not found")  # deleted while this waited
    held = (Membership.org_id == org.id) & Membership.consent_pending.is_(False)
    users = list(await session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(held)))
    await session.execute(delete_rows(Membership).where(Membership.org_id == org.id))
    await revocation.end_links_to(session, actor, org)  # each customer keeps a trace, as when it revokes
    await partner_links.delete_all_of(session, org.id)
    await session.execute(
        update(ApiKey)
        .where(ApiKey.org_id == org.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    org.status = ORG_DELETED
    org.deleted_at = utcnow()
    await session.flush()
    record(session, actor, "org.deleted", org_id=org.id, target_type="org", target_id=org.id)
    await membership_rules.delete_orphans(session, actor, users)


async def visible_page(
    session: AsyncSession, *, bound_to: str | None, member_id: str | None, after: str | None, limit: int
) -> list[Organization]:
    """The organizations a caller sees, by id: the one its credential is bound to, else those ``member_id``
    belongs to (every one when None: a platform admin)."""
    if bound_to is not None:
        org = await repository.get_by_ref(session, bound_to)
        return [org] if org is not None and (after is None or org.id > after) else []
    return await repository.list_page(session, member_id=member_id, after=after, limit=limit)
