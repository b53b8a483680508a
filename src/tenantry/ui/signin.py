"""Sign-in, forgotten password, and the change of a password that must change.

Sign-in goes through the token endpoint's own password grant, so every rule on passwords applies here
too; the refresh token that grant makes is spent at once, since a browser holds a session instead.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.brute_force import client_ip
from tenantry.auth.login import BAD_CREDENTIALS, password_grant
from tenantry.auth.second_factor import PASSWORD_AMR, SECOND_STEP_ERRORS
from tenantry.core.credentials.policy import password_hint, plain_words
from tenantry.core.fields import Email
from tenantry.core.flows import resets, signin
from tenantry.core.flows.context import DeadToken
from tenantry.core.mfa.models import ENROLL, VERIFY
from tenantry.core.tokens import service as refresh_tokens
from tenantry.core.users import service as users
from tenantry.core.users.models import User
from tenantry.errors import InvalidInput, OAuthError, RateLimited
from tenantry.i18n import _
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.ui.mfa import second_step_if_needed, to_second_step
from tenantry.ui.pages import (
    PageRoute,
    continuation,
    field,
    message,
    org_context,
    read_form,
    redirect,
    render,
    use_user_locale,
)
from tenantry.ui.session import open_session, page_actor, signed_in

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
OrgRef = Annotated[str | None, Query(max_length=100)]
_EMAIL = TypeAdapter(Email)
Continue = Annotated[str | None, Query(alias="continue", max_length=4000)]


async def _signed_in_response(
    request: Request, session: AsyncSession, user: User, next_url: str | None = None
) -> Response:
    """Open a session and land on my account, or go back to the authorization request being signed in for:
    no code or token leaves for another site from here."""
    response = redirect(next_url or "/ui/account")
    await open_session(request, session, response, user, [PASSWORD_AMR])
    return response


@router.get("/sign-in")
async def sign_in_page(
    request: Request,
    org: OrgRef = None,
    next_url: Continue = None,
    login_hint: Annotated[str | None, Query(max_length=320)] = None,
    prompt: Annotated[str | None, Query(max_length=20)] = None,
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Sign-in page; a browser already signed in goes to my account (or back to the authorization request),
    unless the request asks it to sign in again (``prompt=login``): its session stands until the new one
    replaces it."""
    next_url = continuation(next_url)
    if prompt != "login" and await signed_in(request, session) is not None:
        return redirect(next_url or "/ui/account")
    context = await org_context(request, session, org)
    context.update(next_url=next_url, email=login_hint or "")
    return render(request, "sign_in.html", {**context, "errors": {}}, 404 if "unknown_org" in context else 200)


@router.post("/sign-in")
async def sign_in(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Check the password; then open a session, or ask for a new password when it must change."""
    form = await read_form(request)
    email, password = field(form, "email", 320).strip(), field(form, "password")
    next_url = continuation(field(form, "continue", 4000))
    named = await org_context(request, session, field(form, "org", 100) or None)
    context = {**named, "email": email, "next_url": next_url}
    if not email or not password:
        errors = {"email": _("Enter your email address"), "password": _("Enter your password")}
        return render(
            request, "sign_in.html", {**context, "errors": {k: v for k, v in errors.items() if not form.get(k)}}, 400
        )
    try:
        await runtime.throttle.admit("ui-sign-in", client_ip(request))
    except RateLimited:
        text = _("Too many sign-in attempts. Please wait a moment and try again.")
        return message(request, _("Please wait"), text, 429)
    try:
        tokens = await password_grant(session, runtime, email, password, client_ip(request), org_id=named.get("org_id"))
    except OAuthError as error:
        if error.keep_changes:
            await session.commit()
        if error.error in SECOND_STEP_ERRORS:
            purpose = VERIFY if error.error == "mfa_required" else ENROLL
            return to_second_step(runtime, str(error.extra["mfa_token"]), purpose, next_url, named.get("org"))
        if error.error == "password_change_required":
            ticket = str(error.extra["change_ticket"])
            page = {**await _change_page(session, ticket), "next_url": next_url, "errors": {}, "org": named["org"]}
            return render(request, "set_password.html", page)
        # Named as the form's field is labelled ("Email address"), where the API says "username".
        text = _sign_in_error(error.detail)
        return render(request, "sign_in.html", {**context, "errors": {"password": text}}, 400)
    await refresh_tokens.spend(session, tokens.refresh_token)
    user = await users.get_by_email(session, email)
    assert user is not None
    return await _signed_in_response(request, session, user, next_url)


def _sign_in_error(detail: str) -> str:
    """The refusal in the page's words: named as the form's field is labelled ("Email address"), where the API
    says "username"."""
    if detail == BAD_CREDENTIALS:
        return _("Invalid email address or password")
    if detail == "the account is disabled":
        return _("This account is disabled. Contact your administrator.")
    return _("You cannot sign in now. Please try again later.")


async def _change_page(session: AsyncSession, ticket: str) -> dict[str, Any]:
    """The page asking for the password that must change: the account's email and its rules, when the ticket works."""
    found = await signin.find_change_ticket(session, ticket)
    user: dict[str, Any] = {"email": ""}
    if found:
        use_user_locale(found.user.locale)
        user = {"email": found.user.email, "hint": await password_hint(session, found.user.id)}
    page = {
        "heading": _("Choose a new password"),
        "intro": _("Your password must be changed before you continue. Choose a new one."),
        "action": "/ui/change-password",
        "button": _("Change password and continue"),
        "ticket_field": "change_ticket",
    }
    return {**page, "token": ticket, **user}


@router.get("/change-password")
async def change_password_page() -> Response:
    """Reached from sign-in only (it carries a ticket): a bare visit goes to sign-in."""
    return redirect("/ui/sign-in")


@router.post("/change-password")
async def change_password(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Replace a password that must change, then continue as after sign-in."""
    form = await read_form(request)
    ticket, password = field(form, "change_ticket", 200), field(form, "password")
    next_url = continuation(field(form, "continue", 4000))
    named = await org_context(request, session, field(form, "org", 100) or None)
    org, org_id = named["org"], named.get("org_id")
    page = {**await _change_page(session, ticket), "next_url": next_url, "org": org}
    if password != field(form, "password_repeat"):
        return render(
            request, "set_password.html", {**page, "errors": {"password_repeat": _("The two passwords differ")}}, 400
        )
    try:
        user = await signin.change_required_password(
            session, runtime.flows, page_actor(request), ticket, password, org_id
        )
    except DeadToken:
        text = _("This page was open too long.")
        return message(request, _("Please sign in again"), text, 410, sign_in="/ui/sign-in")
    except InvalidInput as error:
        errors = {"password": " ".join(plain_words(e) for e in error.errors)}
        return render(request, "set_password.html", {**page, "errors": errors}, 400)
    second_step = await second_step_if_needed(session, runtime, user, [PASSWORD_AMR], next_url, org, org_id)
    return second_step or await _signed_in_response(request, session, user, next_url)


@router.get("/forgot-password")
async def forgot_password_page(request: Request) -> Response:
    """Ask for a password reset link."""
    return render(request, "forgot_password.html", {"errors": {}})


@router.post("/forgot-password")
async def forgot_password(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Queue a reset link for the address; the page says the same whether or not an account has it."""
    form = await read_form(request)
    typed = field(form, "email", 320).strip()
    try:
        email = _EMAIL.validate_python(typed)
    except ValidationError:
        errors = {"email": _("Enter a valid email address")}
        return render(request, "forgot_password.html", {"email": typed, "errors": errors}, 400)
    try:
        await runtime.throttle.admit_password_reset(email, client_ip(request))
    except RateLimited as limited:
        errors = {"email": _("Too many reset requests. Please wait a while and try again.")}
        page = render(request, "forgot_password.html", {"email": typed, "errors": errors}, 429)
        page.headers["Retry-After"] = str(limited.retry_after)
        return page
    resets.request_reset(session, page_actor(request), email)
    text = _("If an account has this address, we have sent it a link to choose a new password. Check your inbox.")
    return message(request, _("Check your email"), text, sign_in="/ui/sign-in")
