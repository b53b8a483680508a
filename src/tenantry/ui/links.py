"""The pages one-time links open: activation, password reset, email verification, magic link.

Opening a link (GET) only shows what it will do; the click on the page (POST) spends it. A link that is
used, expired or replaced shows one clear page and grants nothing.
"""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.api.routing import UnitOfWorkRoute
from tenantry.core.actor import Actor
from tenantry.core.flows import invitations, magic_links, resets, verification
from tenantry.core.flows.context import DeadToken, Flows
from tenantry.core.onetime.service import Redeemable
from tenantry.core.orgs import repository as orgs
from tenantry.core.users.models import User
from tenantry.errors import InvalidInput
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.ui.mfa import LINK_AMR, second_step_if_needed
from tenantry.ui.pages import FormRejected, dead_link, field, message, read_form, redirect, rejected_form, render
from tenantry.ui.session import open_session, page_actor

router = APIRouter(prefix="/ui", route_class=UnitOfWorkRoute, include_in_schema=False)
Token = Annotated[str, Query(max_length=200)]

Finder = Callable[[AsyncSession, str], Awaitable[Redeemable | None]]
Setter = Callable[[AsyncSession, Flows, Actor, str, str], Awaitable[User]]

_ACTIVATION = {
    "heading": "Set your password",
    "intro": "Choose the password of your new account. You will use it with your email address to sign in.",
    "action": "/ui/activate",
    "button": "Set password",
}
_RESET = {
    "heading": "Choose a new password",
    "intro": "Choose the new password of your account. Every device signed in with the old one is signed out.",
    "action": "/ui/reset-password",
    "button": "Save new password",
}


async def _sign_in_link(session: AsyncSession, org_id: str | None) -> str:
    org = await orgs.get_by_ref(session, org_id) if org_id else None
    return f"/ui/sign-in?org={org.slug}" if org else "/ui/sign-in"


async def _password_page(
    request: Request, session: AsyncSession, token: str, find: Finder, page: dict[str, Any]
) -> Response:
    found = await find(session, token)
    if found is None:
        return dead_link(request)
    return render(request, "set_password.html", {**page, "token": token, "email": found.user.email, "errors": {}})


async def _set_password(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    find: Finder,
    apply: Setter,
    page: dict[str, Any],
    done: str,
) -> Response:
    try:
        form = await read_form(request)
    except FormRejected:
        return rejected_form(request)
    token, password = field(form, "token", 200), field(form, "password")
    found = await find(session, token)
    if found is None:
        return dead_link(request)
    context = {**page, "token": token, "email": found.user.email}
    if password != field(form, "password_repeat"):
        return render(
            request, "set_password.html", {**context, "errors": {"password_repeat": "The two passwords differ"}}, 400
        )
    try:
        await apply(session, runtime.flows, page_actor(request), token, password)
    except DeadToken:
        return dead_link(request)
    except InvalidInput as error:
        errors = {"password": "; ".join(e.message for e in error.errors).capitalize()}
        return render(request, "set_password.html", {**context, "errors": errors}, 400)
    return message(request, "Password saved", done, sign_in=await _sign_in_link(session, found.row.org_id))


@router.get("/activate")
async def activation_page(
    request: Request, token: Token = "", session: AsyncSession = Depends(get_session)
) -> Response:
    """Invitation link: choose the first password."""
    return await _password_page(request, session, token, invitations.find_invitation, _ACTIVATION)


@router.post("/activate")
async def activate(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Set the first password; the account is active."""
    done = "Your account is active. Sign in with your email address and the password you chose."
    return await _set_password(
        request, session, runtime, invitations.find_invitation, invitations.accept_invitation, _ACTIVATION, done
    )


@router.get("/reset-password")
async def reset_page(request: Request, token: Token = "", session: AsyncSession = Depends(get_session)) -> Response:
    """Password reset link: choose a new password."""
    return await _password_page(request, session, token, resets.find_reset, _RESET)


@router.post("/reset-password")
async def reset(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Set the new password; every session of the account ends."""
    done = "Your new password is saved. Sign in with it."
    return await _set_password(request, session, runtime, resets.find_reset, resets.complete_reset, _RESET, done)


@router.get("/verify-email")
async def verification_page(
    request: Request, token: Token = "", session: AsyncSession = Depends(get_session)
) -> Response:
    """Email verification link: confirm the address."""
    found = await verification.find_verification(session, token)
    if found is None:
        return dead_link(request)
    intro = f"Confirm that {found.user.email} is your email address."
    page = {
        "heading": "Confirm your email address",
        "intro": intro,
        "action": "/ui/verify-email",
        "button": "Confirm",
        "token": token,
    }
    return render(request, "confirm.html", page)


@router.post("/verify-email")
async def verify_email(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Mark the address verified."""
    try:
        form = await read_form(request)
    except FormRejected:
        return rejected_form(request)
    try:
        user = await verification.confirm_email(session, page_actor(request), field(form, "token", 200))
    except DeadToken:
        return dead_link(request)
    return message(request, "Email address confirmed", f"Thank you: {user.email} is confirmed.", account="/ui/account")


@router.get("/magic")
async def magic_link_page(
    request: Request, token: Token = "", session: AsyncSession = Depends(get_session)
) -> Response:
    """Magic link: offer to sign in."""
    found = await magic_links.find_magic_link(session, token)
    if found is None:
        return dead_link(request)
    intro = f"This link signs you in as {found.user.email}. It works once."
    page = {"heading": "Sign in", "intro": intro, "action": "/ui/magic", "button": "Continue", "token": token}
    return render(request, "confirm.html", page)


@router.post("/magic")
async def use_magic_link(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Spend the link: sign in, then go to my account."""
    try:
        form = await read_form(request)
    except FormRejected:
        return rejected_form(request)
    try:
        found = await magic_links.redeem_magic_link(session, page_actor(request), field(form, "token", 200))
    except DeadToken:
        return dead_link(request)
    second_step = await second_step_if_needed(session, runtime, found.user, [LINK_AMR], None)
    if second_step is not None:
        return second_step
    response = redirect("/ui/account")
    await open_session(session, runtime, response, found.user)
    return response
