"""The second step of a hosted sign-in (password, magic link, changed password): a code from the authenticator
app or a recovery code; or, when an organization requires a second factor of an account with none, enrolling
an app first. The challenge's token travels in a short-lived HttpOnly cookie, never in a URL; the organization
the sign-in named (``?org=``, public) travels with the step's links and forms, so its pages keep its branding."""

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth.brute_force import client_ip, rate_limited, second_factor_counted
from tenantry.core.mfa import challenges, service
from tenantry.core.mfa.challenges import ChallengeDead, Passed, WrongAnswer
from tenantry.core.mfa.models import ENROLL, VERIFY
from tenantry.core.mfa.schemas import OTP, PASSKEY, RECOVERY_CODE, TotpEnrolmentOut
from tenantry.core.users.models import User
from tenantry.i18n import _
from tenantry.runtime import AppRuntime, DbSession, Runtime
from tenantry.ui.pages import (
    PageRoute,
    continuation,
    cookie_name,
    field,
    message,
    org_context,
    read_form,
    redirect,
    render,
    set_cookie,
    use_user_locale,
)
from tenantry.ui.session import open_session, page_actor
from tenantry.web.routing import writes

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
MFA_COOKIE = "tenantry_mfa"
Continue = Annotated[str | None, Query(alias="continue", max_length=4000)]
Method = Annotated[str, Query(max_length=20)]
OrgRef = Annotated[str | None, Query(max_length=100)]
SIGN_IN_RATE = Depends(rate_limited("ui-sign-in"))
"""The second step's answers count against the client's rate limits as the sign-in page's posts do."""


def qr_svg(uri: str) -> Markup:
    """The URI as a QR code, inline SVG drawn here (no external image, nothing the CSP must allow)."""
    import segno  # here: ~0.8 MiB resident that only enrolling an authenticator app needs

    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", title="QR code", svgclass="qr")
    return Markup(svg)  # noqa: S704 (segno's own markup: the URI only appears as modules)


def enrolment_page(enrolment: TotpEnrolmentOut) -> dict[str, Any]:
    return {"qr": qr_svg(enrolment.otpauth_uri), "secret": enrolment.secret, "errors": {}}


def to_second_step(
    runtime: Runtime, mfa_token: str, purpose: str, next_url: str | None, org: str | None = None
) -> Response:
    """Send the browser to the second step of its sign-in (``purpose``: verify or enroll), branded for ``org``
    (the id or slug the sign-in named) when there is one."""
    carried = {name: value for name, value in (("continue", next_url), ("org", org)) if value}
    query = f"?{urlencode(carried)}" if carried else ""
    response = redirect(("/ui/mfa" if purpose == VERIFY else "/ui/mfa/enrol") + query)
    set_cookie(response, runtime, MFA_COOKIE, mfa_token, max_age=challenges.TTL_SECONDS)
    return response


async def second_step_if_needed(
    session: AsyncSession,
    runtime: Runtime,
    user: User,
    amr: list[str],
    next_url: str | None,
    org: str | None = None,
    org_id: str | None = None,
) -> Response | None:
    """After a first factor proven on these pages: the second step's redirect, or None when none is needed.
    ``org`` brands the step's pages; ``org_id`` (the organization the sign-in named) is where it is recorded."""
    need = await service.requirement(session, runtime.settings, user)
    if need.kind == "none":
        return None
    purpose = VERIFY if need.kind == "verify" else ENROLL
    token = await challenges.begin(session, user, purpose, amr, org_id)
    return to_second_step(runtime, token, purpose, next_url, org)


def challenge_token(request: Request, runtime: Runtime) -> str:
    """The token of the sign-in waiting for its second step, from its cookie (empty when there is none)."""
    return request.cookies.get(cookie_name(runtime, MFA_COOKIE), "")


async def in_owners_language(request: Request, session: AsyncSession, runtime: Runtime) -> None:
    """The second step's pages speak the language of the account signing in (its ``locale`` first)."""
    use_user_locale(await challenges.owner_locale(session, challenge_token(request, runtime)))


def sign_in_again(request: Request) -> Response:
    text = _("This sign-in was open too long or had too many wrong codes. Please sign in again.")
    return message(request, _("Please sign in again"), text, 410, sign_in="/ui/sign-in")


async def finish_second_step(
    request: Request, session: AsyncSession, runtime: Runtime, passed: Passed, response: Response
) -> Response:
    await open_session(request, session, response, passed.user, passed.amr)
    secure = runtime.settings.base_url.startswith("https://")
    response.delete_cookie(cookie_name(runtime, MFA_COOKIE), path="/", secure=secure, httponly=True, samesite="lax")
    return response


async def mfa_page(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    method: str,
    next_url: str | None,
    errors: dict[str, str],
    status: int = 200,
    org: str | None = None,
) -> Response:
    """The second step's page: a passkey (when the account has one), the app's code, or a recovery code."""
    named = await org_context(request, session, org)
    await in_owners_language(request, session, runtime)
    try:
        methods = await challenges.methods_for(session, challenge_token(request, runtime))
    except ChallengeDead:
        if not errors:
            return sign_in_again(request)
        methods = [method]  # the wrong answer just spent the sign-in: say what was wrong, once

    if method not in (OTP, RECOVERY_CODE) or method not in methods:
        method = OTP if OTP in methods else (RECOVERY_CODE if method == RECOVERY_CODE else PASSKEY)
    page = {"method": method, "methods": methods, "next_url": next_url, "errors": errors, "org": named["org"]}
    return render(request, "mfa.html", page, status)


async def answer_second_step(
    request: Request,
    session: AsyncSession,
    runtime: Runtime,
    check: Callable[..., Awaitable[Passed]],
    refusal: dict[str, str],
    method: str,
    next_url: str | None,
    org: str | None,
) -> Response:
    """The second step answered, by a code or a passkey: ``check`` (a ``challenges`` answer) runs under the
    client's failure limits; passed, the session opens and the browser goes on; a wrong answer counts and shows
    the step again (on ``method``, with ``refusal``); a sign-in that died starts over."""
    try:
        passed = await second_factor_counted(runtime, client_ip(request), check)
    except ChallengeDead:
        return sign_in_again(request)
    except WrongAnswer:
        await session.commit()  # the failure counts
        return await mfa_page(request, session, runtime, method, next_url, refusal, 400, org)
    return await finish_second_step(request, session, runtime, passed, redirect(next_url or "/ui/account"))


@router.get("/mfa")
async def second_factor_page(
    request: Request,
    session: DbSession,
    runtime: AppRuntime,
    method: Method = OTP,
    next_url: Continue = None,
    org: OrgRef = None,
) -> Response:
    """Ask for a passkey or the authenticator app's code, or (``?method=recovery_code``) a recovery code."""
    if not challenge_token(request, runtime):
        return redirect("/ui/sign-in")
    return await mfa_page(request, session, runtime, method, continuation(next_url), {}, org=org)


@router.post("/mfa", dependencies=[SIGN_IN_RATE])
async def answer_second_factor(request: Request, session: DbSession, runtime: AppRuntime) -> Response:
    """Check the code; then open the session and go on (to my account, or back to the authorization request)."""
    form = await read_form(request)
    await in_owners_language(request, session, runtime)  # before any refusal is worded
    method = RECOVERY_CODE if field(form, "method", 20) == RECOVERY_CODE else OTP
    next_url = continuation(field(form, "continue", 4000))
    org = field(form, "org", 100) or None
    code = field(form, "code", 32)
    if not code.strip():
        errors = {"code": _("Enter the code")}
        return await mfa_page(request, session, runtime, method, next_url, errors, 400, org)
    actor, token = page_actor(request), challenge_token(request, runtime)
    check = partial(challenges.answer, session, runtime.flows, actor, token, method, code)
    refusal = {"code": _("That code is wrong or already used")}
    return await answer_second_step(request, session, runtime, check, refusal, method, next_url, org)


@router.get("/mfa/enrol")
@writes  # a new secret is stored until confirmed
async def enrolment_required_page(
    request: Request, session: DbSession, runtime: AppRuntime, next_url: Continue = None, org: OrgRef = None
) -> Response:
    """An organization requires a second factor: set up an authenticator app to continue."""
    named = await org_context(request, session, org)
    await in_owners_language(request, session, runtime)
    try:
        enrolment = await challenges.start_enrolment(session, runtime.flows, challenge_token(request, runtime))
    except ChallengeDead:
        return sign_in_again(request)
    page = {**enrolment_page(enrolment), "action": "/ui/mfa/enrol", "required": True, "org": named["org"]}
    return render(request, "mfa_enrol.html", {**page, "next_url": continuation(next_url)})


@router.post("/mfa/enrol", dependencies=[SIGN_IN_RATE])
async def finish_required_enrolment(request: Request, session: DbSession, runtime: AppRuntime) -> Response:
    """Confirm the new app with its code: signed in, and shown the recovery codes once."""
    form = await read_form(request)
    next_url = continuation(field(form, "continue", 4000))
    named = await org_context(request, session, field(form, "org", 100) or None)
    await in_owners_language(request, session, runtime)
    token = challenge_token(request, runtime)
    try:
        passed, codes = await challenges.finish_enrolment(
            session, runtime.flows, page_actor(request), token, field(form, "code", 32)
        )
    except ChallengeDead:
        return sign_in_again(request)
    except WrongAnswer:
        await session.commit()
        enrolment = await challenges.start_enrolment(session, runtime.flows, token)
        page = {**enrolment_page(enrolment), "action": "/ui/mfa/enrol", "required": True, "next_url": next_url}
        page["org"] = named["org"]
        errors = {"code": _("That code is not the one the app shows now")}
        return render(request, "mfa_enrol.html", {**page, "errors": errors}, 400)
    shown = render(request, "recovery_codes.html", {"codes": codes, "next": next_url or "/ui/account"})
    return await finish_second_step(request, session, runtime, passed, shown)
