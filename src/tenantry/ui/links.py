"""The pages one-time links open: activation, password reset (and the notice of a factor added), email
verification, magic link.

Opening a link (GET) only shows what it will do; the click on the page (POST) spends it. A link that is
used, expired or replaced shows one clear page and grants nothing.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry import metrics
from tenantry.auth.second_factor import PASSWORD_AMR
from tenantry.core.actor import Actor
from tenantry.core.clients import destinations
from tenantry.core.credentials.policy import password_hint, plain_words
from tenantry.core.flows import invitations, magic_links, resets, verification
from tenantry.core.flows.context import DeadToken, Flows
from tenantry.core.mfa import service as mfa
from tenantry.core.onetime.service import Redeemable
from tenantry.core.orgs import service as orgs
from tenantry.core.orgs.models import Organization
from tenantry.core.users.models import User
from tenantry.errors import InvalidInput, OrganizationNotFound
from tenantry.i18n import N_, _
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.ui.mfa import second_step_if_needed
from tenantry.ui.pages import (
    PageRoute,
    dead_link,
    field,
    message,
    read_form,
    redirect,
    render,
    use_org,
    use_user_locale,
)
from tenantry.ui.session import open_session, page_actor

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
Token = Annotated[str, Query(max_length=200)]

Finder = Callable[[AsyncSession, str], Awaitable[Redeemable | None]]
Setter = Callable[[AsyncSession, Flows, Actor, str, str], Awaitable[User]]

Page = Callable[[str | None, str], dict[str, str]]


def _activation(org_name: str | None, email: str) -> dict[str, str]:
    """The activation page names the organization (as branded) and the account being activated."""
    if org_name:
        intro = _(
            "You are activating the account %(email)s in %(org)s. Choose its password: you will sign in with "
            "this email address and this password."
        ) % {"email": email, "org": org_name}
    else:
        intro = _(
            "You are activating the account %(email)s. Choose its password: you will sign in with this email "
            "address and this password."
        ) % {"email": email}
    return {
        "heading": _("Join %(org)s") % {"org": org_name} if org_name else _("Activate your account"),
        "intro": intro,
        "action": "/ui/activate",
        "button": _("Set password and sign in"),
    }


def _reset(org_name: str | None, email: str) -> dict[str, str]:
    intro = _("Choose the new password of %(email)s. Every device signed in with the old one is signed out.")
    return {
        "heading": _("Choose a new password"),
        "intro": intro % {"email": email},
        "action": "/ui/reset-password",
        "button": _("Save new password"),
    }


def _factor_added(org_name: str | None, email: str) -> dict[str, str]:
    intro = _(
        "Choose the new password of %(email)s. Every device signed in is signed out, and the passkeys and "
        "authenticator apps added without a second factor are removed."
    )
    return {
        "heading": _("Secure your account"),
        "intro": intro % {"email": email},
        "action": "/ui/factor-added",
        "button": _("Remove them and save the new password"),
    }


async def _org(session: AsyncSession, org_id: str | None) -> Organization | None:
    try:
        return await orgs.get(session, org_id) if org_id else None
    except OrganizationNotFound:
        return None


async def _sign_in_link(session: AsyncSession, org_id: str | None) -> str:
    org = await _org(session, org_id)
    return f"/ui/sign-in?org={org.slug}" if org else "/ui/sign-in"


async def _org_ref(session: AsyncSession, org_id: str | None) -> str | None:
    """The organization a link was made for, carried (by slug) to a second step so that its pages keep its
    branding, as a sign-in that named it does."""
    org = await _org(session, org_id)
    return org.slug if org else None


async def _for_link(request: Request, session: AsyncSession, found: Redeemable) -> Organization | None:
    """The page a link opens speaks its user's language and wears its organization's branding."""
    use_user_locale(found.user.locale)
    org = await _org(session, found.row.org_id)
    await use_org(request, session, org)
    return org


async def _ask_first(
    request: Request,
    session: AsyncSession,
    found: Redeemable | None,
    token: str,
    action: str,
    texts: tuple[str, str, str],
) -> Response:
    """The page a link opens before it is spent (a GET never spends it): its button posts ``token`` to
    ``action``. ``texts`` (heading, intro naming ``%(email)s``, button) are said in the link's language."""
    if found is None:
        return dead_link(request)
    await _for_link(request, session, found)
    heading, intro, button = (_(text) for text in texts)
    page = {"heading": heading, "intro": intro % {"email": found.user.email}, "action": action, "button": button}
    return render(request, "confirm.html", {**page, "token": token})


async def _context(
    request: Request, session: AsyncSession, found: Redeemable, page: Page, token: str
) -> dict[str, Any]:
    """What the password page shows: who and where, and the rules the password must follow."""
    email = found.user.email
    org = await _for_link(request, session, found)
    org_name = request.state.brand.name if org is not None else None
    hint = await password_hint(session, found.user.id)
    return {**page(org_name, email), "token": token, "email": email, "hint": hint}


async def _password_page(request: Request, session: AsyncSession, token: str, find: Finder, page: Page) -> Response:
    found = await find(session, token)
    if found is None:
        return dead_link(request)
    return render(request, "set_password.html", {**await _context(request, session, found, page, token), "errors": {}})


async def _set_password(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    find: Finder,
    apply: Setter,
    page: Page,
    done: str | None,
) -> Response:
    """Spend the link with the new password; then say ``done``, or (``done`` None) sign the user in."""
    form = await read_form(request)
    token, password = field(form, "token", 200), field(form, "password")
    found = await find(session, token)
    if found is None:
        return dead_link(request)
    context = await _context(request, session, found, page, token)
    if password != field(form, "password_repeat"):
        errors = {"password_repeat": _("The two passwords differ")}
        return render(request, "set_password.html", {**context, "errors": errors}, 400)
    try:
        user = await apply(session, runtime.flows, page_actor(request), token, password)
    except DeadToken:
        return dead_link(request)
    except InvalidInput as error:
        errors = {"password": " ".join(plain_words(e) for e in error.errors)}
        return render(request, "set_password.html", {**context, "errors": errors}, 400)
    if done is None:
        into_app = destinations.authorization_url(found.row.details, found.row.org_id)
        org_ref = await _org_ref(session, found.row.org_id)
        second_step = await second_step_if_needed(session, runtime, user, [PASSWORD_AMR], into_app, org_ref)
        if second_step is not None:  # an organization requires a second factor: set it up first
            return second_step
        response = redirect(into_app or "/ui/account?notice=activated")
        await open_session(request, session, response, user, [PASSWORD_AMR])
        return response
    return message(request, _("Password saved"), _(done), sign_in=await _sign_in_link(session, found.row.org_id))


def _password_link(path: str, find: Finder, apply: Setter, page: Page, done: str | None, name: str) -> None:
    """``GET /ui{path}``, the page a link that sets a password opens (``_password_page``), and ``POST /ui{path}``,
    its form, which spends the link (``_set_password``: then says ``done``, or signs the user in)."""

    async def password_page(
        request: Request, token: Token = "", session: AsyncSession = Depends(get_session)
    ) -> Response:
        return await _password_page(request, session, token, find, page)

    async def set_password(
        request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
    ) -> Response:
        return await _set_password(request, session, runtime, find, apply, page, done)

    router.add_api_route(path, password_page, methods=["GET"], name=f"{name}_page")
    router.add_api_route(path, set_password, methods=["POST"], name=name)


# Invitation link: the organization and the account being activated, and its first password; the account is
# then active and this browser signed in.
_password_link("/activate", invitations.find_invitation, invitations.accept_invitation, _activation, None, "activate")
# Password reset link: a new password; every session of the account ends.
_RESET_DONE = N_("Your new password is saved. Sign in with it.")
_password_link("/reset-password", resets.find_reset, resets.complete_reset, _reset, _RESET_DONE, "reset")
# Link of the notice of a factor added without a second factor: a new password, and those factors go.
_FACTOR_ADDED_DONE = N_(
    "Your new password is saved and the factors added without a second factor are removed. Sign in with it."
)
_password_link(
    "/factor-added", resets.find_factor_added, resets.undo_factor_added, _factor_added, _FACTOR_ADDED_DONE, "undo"
)


def _link_page(path: str, find: Finder, texts: tuple[str, str, str], name: str) -> None:
    """``GET /ui{path}``, the page a link opens: found by ``find``, it asks first (``_ask_first``) and its
    button posts to the same address."""

    async def link_page(request: Request, token: Token = "", session: AsyncSession = Depends(get_session)) -> Response:
        return await _ask_first(request, session, await find(session, token), token, f"/ui{path}", texts)

    router.add_api_route(path, link_page, methods=["GET"], name=name)


_VERIFICATION = (N_("Confirm your email address"), N_("Confirm that %(email)s is your email address."), N_("Confirm"))
_MAGIC_LINK = (N_("Sign in"), N_("This link signs you in as %(email)s. It works once."), N_("Continue"))
_link_page("/verify-email", verification.find_verification, _VERIFICATION, name="verification_page")
_link_page("/magic", magic_links.find_magic_link, _MAGIC_LINK, name="magic_link_page")


@router.post("/verify-email")
async def verify_email(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Mark the address verified."""
    form = await read_form(request)
    try:
        user = await verification.confirm_email(session, page_actor(request), field(form, "token", 200))
    except DeadToken:
        return dead_link(request)
    use_user_locale(user.locale)
    text = _("Thank you: %(email)s is confirmed.") % {"email": user.email}
    return message(request, _("Email address confirmed"), text, account="/ui/account")


@router.post("/magic")
async def use_magic_link(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Spend the link: sign in, then go to my account, or on into the app the link was made for."""
    form = await read_form(request)
    try:
        found = await magic_links.redeem_magic_link(
            session, runtime.flows, page_actor(request), field(form, "token", 200)
        )
    except DeadToken:
        metrics.SIGN_INS.labels(method=magic_links.SIGN_IN_METHOD, result="failed").inc()
        return dead_link(request)
    into_app = destinations.authorization_url(found.row.details, found.row.org_id)
    org_ref = await _org_ref(session, found.row.org_id)
    second_step = await second_step_if_needed(
        session, runtime, found.user, [magic_links.SIGN_IN_AMR], into_app, org_ref, org_id=found.row.org_id
    )
    if second_step is not None:
        need = await mfa.requirement(session, runtime.settings, found.user)
        result = "mfa_required" if need.kind == "verify" else "mfa_enrollment_required"
        metrics.SIGN_INS.labels(method=magic_links.SIGN_IN_METHOD, result=result).inc()
        return second_step
    metrics.SIGN_INS.labels(method=magic_links.SIGN_IN_METHOD, result="succeeded").inc()
    response = redirect(into_app or "/ui/account")
    await open_session(request, session, response, found.user, [magic_links.SIGN_IN_AMR])
    return response
