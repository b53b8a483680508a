"""Resources: typed things an organization owns, in a tree, that role grants can be scoped to."""

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.orgs.models import Organization
from tenantry.core.resources import repository
from tenantry.core.resources.models import BOT, ENVIRONMENT, Resource
from tenantry.core.resources.schemas import ResourceCreate, ResourceUpdate
from tenantry.db.base import utcnow
from tenantry.errors import Conflict, FieldError, InvalidInput, NotFound


async def get(session: AsyncSession, org_id: str, ref: str) -> Resource:
    """A resource of the organization by id or external id; 404 otherwise (other organizations' too)."""
    found = (await repository.find(session, org_id, [ref])).get(ref)
    if found is None:
        raise NotFound("resource not found")
    return found


def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    org: Organization,
    resource: Resource,
    details: dict[str, Any] | None = None,
) -> None:
    """Record a change to ``resource`` in the organization's audit log."""
    record(session, actor, action, org_id=org.id, target_type="resource", target_id=resource.id, details=details)


def _external_id_conflict(external_id: str) -> Conflict:
    return Conflict(f"a resource with external_id {external_id!r} already exists")


async def _flush_unique(session: AsyncSession, external_id: str | None) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        raise _external_id_conflict(external_id or "") from error


async def _checked_parent(
    session: AsyncSession, org_id: str, resource_type: str, parent_id: str | None, *, moving: str | None = None
) -> Resource | None:
    """The parent, after the tree rules: a bot's parent is an environment, an environment has none, no cycles."""
    parent = None
    if parent_id is not None:
        parent = (await repository.find(session, org_id, [parent_id])).get(parent_id)
        if parent is None:
            raise InvalidInput([FieldError("parent_id", "no such resource in this organization")])
    if resource_type == BOT and (parent is None or parent.type != ENVIRONMENT):
        raise InvalidInput([FieldError("parent_id", "a bot must belong to an environment")])
    if resource_type == ENVIRONMENT and parent is not None:
        raise InvalidInput([FieldError("parent_id", "an environment cannot have a parent")])
    if parent is not None and moving is not None:
        lineage = {parent.id} | {ancestor.id for ancestor in await repository.ancestors(session, parent)}
        if moving in lineage:
            raise InvalidInput([FieldError("parent_id", "a resource cannot be placed beneath itself")])
    return parent


async def create(session: AsyncSession, actor: Actor, org: Organization, payload: ResourceCreate) -> Resource:
    await _checked_parent(session, org.id, payload.type, payload.parent_id)
    if payload.external_id is not None and await repository.external_id_taken(
        session, org.id, payload.external_id, besides=None
    ):
        raise _external_id_conflict(payload.external_id)
    resource = Resource(
        org_id=org.id,
        type=payload.type,
        name=payload.name,
        parent_id=payload.parent_id,
        external_id=payload.external_id,
        active=payload.active,
    )
    session.add(resource)
    await _flush_unique(session, payload.external_id)
    _audit(session, actor, "resource.created", org, resource, {"type": resource.type})
    return resource


async def update(
    session: AsyncSession, actor: Actor, org: Organization, resource: Resource, payload: ResourceUpdate
) -> Resource:
    changes = payload.model_dump(exclude_unset=True)
    if "parent_id" in changes:
        await _checked_parent(session, org.id, resource.type, payload.parent_id, moving=resource.id)
    if payload.external_id is not None and await repository.external_id_taken(
        session, org.id, payload.external_id, besides=resource.id
    ):
        raise _external_id_conflict(payload.external_id)
    for field, value in changes.items():
        setattr(resource, field, value)
    resource.updated_at = utcnow()
    await _flush_unique(session, resource.external_id)
    _audit(session, actor, "resource.updated", org, resource, {"fields": sorted(changes)})
    return resource


async def delete(session: AsyncSession, actor: Actor, org: Organization, resource: Resource) -> None:
    """Delete a resource without children; grants and configurations scoped to it go with it."""
    children = await repository.child_count(session, resource.id)
    if children:
        raise Conflict(f"the resource has {children} child resource(s); delete or move them first")
    await session.delete(resource)
    await session.flush()
    _audit(session, actor, "resource.deleted", org, resource)


# Reads the service adds no rule to: surfaces reach them here, never in the repository.
find_many = repository.find
page = repository.page
