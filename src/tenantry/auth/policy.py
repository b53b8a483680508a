"""Route policies: every route declares who may call it, checked against the caller's rights in the org.

A policy is saleschat's "roles allowed / impersonated / partner" triple, generalized: the permission the
route needs, whether a token obtained by impersonation may call it, whether a partner organization may.
The organization in the path is resolved and the caller's permissions there are loaded on every request,
so disabling a user, a membership, a key or a partner link takes effect on the next one. Not a member:
404; a member without the permission: 403.

Where the caller's rights in an organization come from is ``core.access`` (first match wins: a platform admin,
a member, a member of a partner organization, else 404; a membership not active: 403); a partner's
member acts only on routes whose policy allows partners (403 on the others). An impersonation token acts only
in the organization it was issued in (404 elsewhere); so does every token issued for one organization
(the OpenID provider's), and platform-admin powers never ride on such a token.
"""

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import BaseRoute, Mount

from tenantry.auth.brute_force import client_ip
from tenantry.auth.principal import Presented, Principal, current_principal, own_token_principal, presented
from tenantry.core.access import Rights, key_rights, user_rights
from tenantry.core.actor import Actor, SignIn
from tenantry.core.memberships import callers, directory
from tenantry.core.memberships.callers import MembershipRights
from tenantry.core.memberships.service import Member, MemberRead
from tenantry.core.orgs.models import Organization
from tenantry.errors import NotFound, OrganizationNotFound, PermissionDenied
from tenantry.requestctx import request_id
from tenantry.runtime import session_of


@dataclass(frozen=True)
class Policy:
    permission: str | None = None
    """Permission needed in the organization; None: any active member (or any caller, off an org)."""
    impersonation: bool = True
    """Whether a token obtained by impersonation may call the route."""
    partner: bool = False
    """Whether members of a partner organization may call it."""
    platform_admin: bool = False
    """Only platform admins."""
    users_only: bool = False
    """API keys may not call it (it acts on the calling user)."""
    own_account: bool = False
    """It changes the calling account as a whole (its password, second factors, every session), which guards it
    in every organization: a token bound to one organization (an application's, an impersonation) may not."""

    def admits(self, actor: Actor) -> bool:
        """Whether ``actor``, let into the organization by another route, would be let into one with this policy:
        for a page that shows part of what such a route serves (the same rule, not a second one)."""
        return (
            (self.permission is None or self.permission in actor.permissions)
            and (self.impersonation or actor.impersonator_id is None)
            and (self.partner or actor.partner_org_id is None)
            and (not self.platform_admin or actor.platform_admin)
            and (not self.users_only or actor.user_id is not None)
        )


READ_AUDIT = Policy("audit:read")
"""The audit log's policy: its members only (never a partner's), on every surface that shows it."""


@dataclass(frozen=True)
class OrgAccess:
    org: Organization
    principal: Principal
    actor: Actor


@dataclass(frozen=True)
class Target:
    """The user a route acts on, with the caller's access to the organization."""

    access: OrgAccess
    member: Member


def _actor(request: Request, principal: Principal, rights: Rights) -> Actor:
    return Actor(
        user_id=principal.user.id if principal.user else None,
        api_key_id=principal.api_key.id if principal.api_key else None,
        client_id=principal.client_id,
        impersonator_id=principal.impersonator_id,
        partner_org_id=rights.partner_org_id,
        platform_admin=principal.platform_admin,
        permissions=rights.permissions,
        request_id=request_id.get(),
        client_ip=client_ip(request),
        bound_org_id=principal.org_id,
        second_factor=principal.second_factor,
        sign_in=_sign_in(principal),
    )


def _sign_in(principal: Principal) -> SignIn | None:
    """The sign-in session of a user's own credential (an impersonation's is checked on its every request
    instead, and acts in nothing that outlives one)."""
    if principal.user is None or principal.issued_at is None or principal.impersonator_id is not None:
        return None
    return SignIn(principal.session_id, principal.issued_at)


def _check_caller(policy: Policy, principal: Principal) -> None:
    if policy.users_only and principal.user is None:
        raise PermissionDenied("this operation acts on a user; API keys cannot call it")
    if policy.platform_admin and not principal.platform_admin:
        raise PermissionDenied("only platform admins may do this")
    if not policy.impersonation and principal.impersonator_id is not None:
        raise PermissionDenied("an impersonated session may not do this")
    if policy.own_account and (principal.org_id is not None or principal.client_id is not None):
        raise PermissionDenied("a token issued to an application or for one organization may not change the account")


async def _rights_in(
    session: AsyncSession,
    policy: Policy,
    principal: Principal,
    org: Organization,
    membership: MembershipRights | None,
) -> Rights:
    """What the caller may do in ``org``; ``membership`` is theirs there (already read). An application's token
    acts only in the organization it was issued for (``_access`` narrows its rights there)."""
    if (principal.org_id is not None and principal.org_id != org.id) or principal.reaches_no_org:
        raise OrganizationNotFound("organization not found")
    if principal.api_key is not None:
        if principal.api_key.org_id != org.id:
            raise OrganizationNotFound("organization not found")
        return key_rights(principal.api_key)
    assert principal.user is not None
    rights = await user_rights(
        session, org, principal.user.id, platform_admin=principal.platform_admin, membership=membership
    )
    if rights.partner_org_id is not None and not policy.partner:
        raise PermissionDenied("partner organizations may not do this")
    return rights


PolicyDependency = Callable[..., Awaitable[Any]]


def caller_actor(request: Request, policy: Policy, principal: Principal) -> Actor:
    """``principal`` as the actor of a route outside any organization, once checked against ``policy``."""
    _check_caller(policy, principal)
    return _actor(request, principal, Rights(frozenset()))


def caller(policy: Policy) -> PolicyDependency:
    """Dependency for routes outside any organization: the authenticated caller, checked against ``policy``."""

    async def dependency(request: Request, principal: Principal = Depends(current_principal)) -> Actor:
        return caller_actor(request, policy, principal)

    dependency.policy = policy  # type: ignore[attr-defined]
    return dependency


async def org_access(
    request: Request, session: AsyncSession, policy: Policy, principal: Principal, org_ref: str
) -> OrgAccess:
    """``principal``'s access to the organization ``org_ref`` (id or slug) under ``policy``: 404 when it is
    not theirs, 403 without the permission. Every surface's organization dependency comes here."""
    _check_caller(policy, principal)
    user = principal.user
    member_id = user.id if user is not None and not principal.platform_admin else None
    found, membership = await callers.org_and_membership(session, org_ref, member_id)
    return await _access(request, session, policy, principal, found, membership)


async def credential_org_access(
    request: Request, session: AsyncSession, policy: Policy, credential: Presented, org_ref: str
) -> OrgAccess:
    """``org_access`` for a presented credential: a user's own token is authorized in one statement (its
    account's liveness, its session, the organization, its membership there with the roles)."""
    access, _ = await credential_member_read(request, session, policy, credential, org_ref, None)
    return access


async def credential_member_read(
    request: Request,
    session: AsyncSession,
    policy: Policy,
    credential: Presented,
    org_ref: str,
    member_id: str | None,
) -> tuple[OrgAccess, MemberRead | None]:
    """``credential_org_access``, then, given ``member_id``, the organization's member as a read answers it
    (None when the organization has no such live member). For a user's own token both come from one
    statement; the member is handed on only once the policy granted the access."""
    if credential.claims is None:
        assert credential.principal is not None
        access = await org_access(request, session, policy, credential.principal, org_ref)
        member = None if member_id is None else await directory.read_member(session, access.org.id, member_id)
        return access, member
    claims = credential.claims
    there = await callers.caller_in_org(session, claims.subject, claims.session_id, org_ref, member_id)
    principal = own_token_principal(claims, there.user, there.session_ended)
    _check_caller(policy, principal)
    return await _access(request, session, policy, principal, there.org, there.membership), there.member


async def _access(
    request: Request,
    session: AsyncSession,
    policy: Policy,
    principal: Principal,
    found: Organization | None,
    membership: MembershipRights | None,
) -> OrgAccess:
    if found is None:
        raise OrganizationNotFound("organization not found")
    rights = await _rights_in(session, policy, principal, found, membership)
    if principal.client_permissions is not None:  # an application's token: at most what it was issued with
        rights = Rights(rights.permissions & principal.client_permissions, rights.partner_org_id)
    if policy.permission is not None and policy.permission not in rights.permissions:
        raise PermissionDenied(f"requires the permission {policy.permission!r} in this organization")
    return OrgAccess(found, principal, _actor(request, principal, rights))


def org_member(policy: Policy, *, path_param: str = "org") -> PolicyDependency:
    """Dependency for routes under an organization: the organization and the caller's rights in it.

    ``path_param`` names the path parameter holding the organization's id or slug (``{org}`` in the
    native API; dialects use their vendor's name, such as ``{orgId}``).
    """

    org_ref = _org_ref(path_param)

    async def dependency(
        request: Request,
        org: org_ref,  # type: ignore[valid-type]
        credential: Presented = Depends(presented),
    ) -> OrgAccess:
        return await credential_org_access(request, session_of(request), policy, credential, org)

    return _declaring(dependency, policy, path_param)


def _org_ref(path_param: str) -> Any:
    """The path parameter ``path_param``, naming an organization by id or slug (a type built at run time, which
    mypy cannot read as one: hence the ignores where it is used)."""
    return Annotated[str, Path(alias=path_param, description="Organization id or slug", max_length=100)]


def _declaring(dependency: Callable[..., Any], policy: Policy, path_param: str) -> PolicyDependency:
    """``dependency``, marked with the policy it checks and its organization parameter (``route_policies``)."""
    dependency.policy = policy  # type: ignore[attr-defined]
    dependency.org_param = path_param  # type: ignore[attr-defined]
    return dependency


@dataclass(frozen=True)
class MemberFound:
    """A read of one member the path names, with the caller's access to the organization."""

    access: OrgAccess
    member: MemberRead


def org_member_read(policy: Policy, *, ref: Any, path_param: str = "org") -> PolicyDependency:
    """Dependency for a route that reads the member ``ref`` names (an ``Annotated[str, Path(alias=…)]``): the
    caller's access under ``policy``, then the member, 404 for an id the organization does not hold. For a
    user's own token both are one statement (``credential_member_read``)."""

    org_ref = _org_ref(path_param)

    async def dependency(
        request: Request,
        reference: ref,
        org: org_ref,  # type: ignore[valid-type]
        credential: Presented = Depends(presented),
    ) -> MemberFound:
        access, member = await credential_member_read(request, session_of(request), policy, credential, org, reference)
        if member is None:
            raise NotFound("user not found")
        return MemberFound(access, member)

    return _declaring(dependency, policy, path_param)


@dataclass(frozen=True)
class RoutePolicy:
    method: str
    path: str
    policy: Policy | None
    """None: a public route (probes, published keys, the token endpoint)."""
    org_param: str | None = None
    """The path parameter naming the organization, for routes under one."""


def _policy_dependency(dependant: Dependant) -> Callable[..., Any] | None:
    for dependency in dependant.dependencies:
        if isinstance(getattr(dependency.call, "policy", None), Policy):
            return dependency.call
        found = _policy_dependency(dependency)
        if found is not None:
            return found
    return None


def _api_routes(routes: Sequence[BaseRoute], prefix: str) -> Iterator[tuple[str, APIRoute]]:
    """Every API route with its full path, into mounted sub-applications (dialects, SCIM) too."""
    for context in iter_route_contexts(routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            yield prefix + context.path, route
        elif isinstance(route, Mount):
            yield from _api_routes(route.routes, prefix + route.path)


def route_policies(app: FastAPI) -> list[RoutePolicy]:
    """Every API route of ``app`` and of its mounted applications with the policy it declares, sorted by
    path and method."""
    found: list[RoutePolicy] = []
    for path, route in _api_routes(app.routes, ""):
        call = _policy_dependency(route.dependant)
        policy = getattr(call, "policy", None)
        org_param = getattr(call, "org_param", None)
        found.extend(RoutePolicy(method, path, policy, org_param) for method in sorted(route.methods or ()))
    return sorted(found, key=lambda entry: (entry.path, entry.method))
