"""One member: profile, roles editor, status actions (each confirmed), password reset, invitation, magic
link, and the member's recent audit events. Each action runs under the same policy as its API route."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.impersonation import impersonate
from tenantry.auth.policy import READ_AUDIT, Policy
from tenantry.console.pages import Console, ConsoleRoute, confirm_page, console_access
from tenantry.core.actor import Actor
from tenantry.core.audit import service as audit
from tenantry.core.flows import invitations, magic_links, resets
from tenantry.core.flows.context import Flows
from tenantry.core.memberships import service as memberships
from tenantry.core.memberships.service import Member
from tenantry.core.orgs.models import Organization
from tenantry.core.resources import grants
from tenantry.core.roles import service as roles
from tenantry.core.users import service as users
from tenantry.errors import NotFound
from tenantry.i18n import N_, _

router = APIRouter(prefix="/console/{org}/members/{user}", route_class=ConsoleRoute, include_in_schema=False)
UserRef = Annotated[str, Path(description="User id", max_length=64)]
RECENT_EVENTS = 10
NOTICES = {
    "invited": N_("Invited: an invitation is on its way."),
    "roles": N_("Roles saved."),
    "disable": N_("The member is disabled."),
    "enable": N_("The member is enabled again."),
    "password-reset": N_("A password reset email is on its way."),
    "invitation": N_("A new invitation is on its way; the earlier link stops working."),
}


@dataclass(frozen=True)
class Confirmation:
    """The page that asks before an action: its heading and question name ``%(email)s`` (and ``%(org)s``)."""

    heading: str
    question: str
    danger: bool = False


@dataclass(frozen=True)
class Action:
    """A thing the viewer may do to a member; its texts are marked for the catalog and translated where shown."""

    name: str
    label: str
    permission: str
    confirm: Confirmation | None = None


ACTIONS = {
    action.name: action
    for action in (
        Action(
            "disable",
            N_("Disable"),
            "users:disable",
            Confirmation(N_("Disable %(email)s"), N_("Disable %(email)s? They are signed out at once."), True),
        ),
        Action(
            "enable",
            N_("Enable"),
            "users:disable",
            Confirmation(N_("Enable %(email)s"), N_("Enable %(email)s again?")),
        ),
        Action(
            "remove",
            N_("Remove"),
            "users:delete",
            Confirmation(N_("Remove %(email)s"), N_("Remove %(email)s from %(org)s?"), True),
        ),
        Action("password-reset", N_("Send a password reset"), "users:set_password"),
        Action("invitation", N_("Resend the invitation"), "users:create"),
        Action("magic-link", N_("Create a magic link"), "users:magic_link"),
        Action("impersonate", N_("Impersonate"), "users:impersonate"),
    )
}


@dataclass(frozen=True)
class TargetMember:
    console: Console
    member: Member


def _url(target: TargetMember) -> str:
    return f"/console/{target.console.org.slug}/members/{target.member.user.id}"


def target_member(policy: Policy) -> Callable[..., Awaitable[TargetMember]]:
    """Dependency: ``policy`` first, then ``{user}`` among the organization's members (404 otherwise)."""
    access = console_access(policy)

    async def dependency(user: UserRef, console: Console = Depends(access)) -> TargetMember:
        return TargetMember(console, await memberships.target(console.session, console.org, user))

    return dependency


def _offered(console: Console, member: Member) -> list[Action]:
    """The actions the viewer holds the permission for and that fit the member's status."""
    status = users.displayed_status(member.user, member.membership)
    fitting = {
        "disable": status != "disabled",
        "enable": status == "disabled",
        "remove": True,
        "password-reset": status == "active",
        "invitation": status == "invited",
        "magic-link": status == "active",
        "impersonate": status == "active" and member.user.id != console.access.actor.user_id,
    }
    return [action for action in ACTIONS.values() if fitting[action.name] and console.can(action.permission)]


async def _member_page(target: TargetMember, **context: Any) -> Response:
    console, member, session = target.console, target.member, target.console.session
    events = None
    if console.may(READ_AUDIT):  # the audit log's own rule: never a partner's
        where = audit.AuditFilter(target=member.user.id)
        events = await audit.page(session, console.org.id, where, after=None, limit=RECENT_EVENTS, newest_first=True)
    membership_id = member.membership.id
    scoped = (await grants.of_memberships(session, [membership_id]))[membership_id]
    notice = console.request.query_params.get("notice", "")
    page = {
        "member": users.member_out(member),
        "grants": [grants.grant_out(grant) for grant in scoped],
        "roles": await roles.list_for_org(session, console.org.id),
        "actions": _offered(console, member),
        "events": events,
        "notice_text": _(NOTICES[notice]) if notice in NOTICES else None,
        **context,
    }
    return console.render("member.html", page)


def _policy(action: str, **rules: bool) -> Policy:
    """The policy of the API route doing ``action``: its permission, never while impersonating."""
    return Policy(ACTIONS[action].permission, impersonation=False, **rules)


@router.get("")
async def member_page(target: TargetMember = Depends(target_member(Policy("users:read", partner=True)))) -> Response:
    """A member as this organization sees them, with what the viewer may do to them."""
    return await _member_page(target)


@router.post("/roles")
async def save_roles(
    target: TargetMember = Depends(target_member(Policy("users:roles", impersonation=False, partner=True))),
) -> Response:
    """Replace the roles the member holds (nobody grants a role above their own)."""
    console = target.console
    form = await console.form()
    chosen = [value for value in form.getlist("roles") if isinstance(value, str)][:50]
    await memberships.set_roles(console.session, console.access.actor, console.org, target.member, chosen)
    return console.go(f"{_url(target)}?notice=roles")


@router.get("/confirm/{action}")
async def confirm_action(
    action: Annotated[str, Path(max_length=32)],
    target: TargetMember = Depends(target_member(Policy("users:read", partner=True))),
) -> Response:
    """Ask before disabling, enabling or removing: the button on this page does it."""
    found = ACTIONS.get(action)
    if found is None or found.confirm is None:
        raise NotFound("no such action")
    console, member = target.console, target.member
    named = {"email": member.user.email, "org": console.org.name}
    return confirm_page(
        console,
        heading=_(found.confirm.heading) % named,
        question=_(found.confirm.question) % named,
        action=f"{_url(target)}/{found.name}",
        button=_(found.label),
        danger=found.confirm.danger,
        back=_url(target),
    )


MemberChange = Callable[[AsyncSession, Actor, Organization, Member], Awaitable[None]]
MailedChange = Callable[[AsyncSession, Flows, Actor, Organization, Member], Awaitable[None]]
CHANGES: dict[str, MemberChange] = {
    "disable": memberships.disable,  # signed out at once
    "enable": memberships.enable,
    "remove": memberships.remove,  # from the organization
}
MAILED: dict[str, MailedChange] = {
    "password-reset": resets.send_reset_to_member,  # a link to choose a new password
    "invitation": invitations.send_invitation_to_member,  # a new link; the earlier one stops working
}


def _change_route(action: str) -> None:
    """``POST /{action}`` under the action's policy: the change, then the member's page with its notice (the
    members list, once removed)."""

    async def change_member(target: TargetMember = Depends(target_member(_policy(action, partner=True)))) -> Response:
        console = target.console
        member = (console.access.actor, console.org, target.member)
        if action in MAILED:
            await MAILED[action](console.session, console.runtime.flows, *member)
        else:
            await CHANGES[action](console.session, *member)
        if action == "remove":
            return console.go(f"/console/{console.org.slug}/members?notice=removed")
        return console.go(f"{_url(target)}?notice={action}")

    router.add_api_route(f"/{action}", change_member, methods=["POST"], name=action)


for _action in (*CHANGES, *MAILED):
    _change_route(_action)


@router.post("/magic-link")
async def magic_link(target: TargetMember = Depends(target_member(_policy("magic-link", partner=True)))) -> Response:
    """Create a link that signs the member in once; shown on this answer only, with a copy button."""
    console = target.console
    link = await magic_links.create_magic_link(
        console.session, console.runtime.flows, console.access.actor, console.org, target.member
    )
    return await _member_page(target, magic_link=link.url)


@router.post("/impersonate")
async def impersonate_member(
    target: TargetMember = Depends(target_member(_policy("impersonate", users_only=True))),
) -> Response:
    """A short-lived token acting as the member here (never someone above the viewer), shown once with a
    copy button, for the application's API."""
    access = target.console.access
    minted_in = access.principal.session_id  # the viewer's browser session: signing out ends the token
    token = await impersonate(
        target.console.session,
        target.console.runtime,
        access.actor,
        access.org,
        target.member,
        impersonator_session_id=minted_in,
    )
    return await _member_page(target, impersonation=token)
