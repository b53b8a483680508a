"""Passkeys on the hosted pages: register and remove them on my account, sign in with one alone, or answer a
sign-in's second step with one.

Each ceremony is two posts of a form from our own pages (CSRF token checked both times): the first answers
WebAuthn options as JSON (``/ui/static/passkeys.js`` hands them to the browser's authenticator), the second
carries the authenticator's answer in the form's ``credential`` field and is answered like any form.
"""

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from tenantry import metrics
from tenantry.auth.brute_force import client_ip, second_factor_counted
from tenantry.core.flows import ownership
from tenantry.core.mfa import challenges, passkeys
from tenantry.core.mfa.challenges import ChallengeDead, PasskeyRefused
from tenantry.core.mfa.schemas import OTP, PASSKEY
from tenantry.errors import InvalidInput, NotFound, RateLimited
from tenantry.i18n import N_, _
from tenantry.runtime import AppRuntime, DbSession
from tenantry.ui.mfa import SIGN_IN_RATE, answer_second_step, challenge_token, in_owners_language
from tenantry.ui.pages import (
    FormRejected,
    continuation,
    field,
    message,
    read_form,
    redirect,
    render,
)
from tenantry.ui.session import factor_set_up, open_session, page_actor, signed_in
from tenantry.web.routing import UnitOfWorkRoute

router = APIRouter(prefix="/ui", route_class=UnitOfWorkRoute, include_in_schema=False)
_JSON_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
_CREDENTIAL_MAX = passkeys.MAX_CREDENTIAL_JSON


def _options(body: str) -> Response:
    return Response(body, media_type="application/json", headers=_JSON_HEADERS)


def _problem(status: int, detail: str) -> JSONResponse:
    """A refusal passkeys.js shows the user as it is: ``detail`` is in the page's language."""
    return JSONResponse({"detail": detail}, status_code=status, headers=_JSON_HEADERS)


_FORM_REJECTED = N_("This form could not be accepted. Reload the page and try again.")


async def _form_refused(request: Request) -> JSONResponse | None:
    """The options' refusal of a form not from our pages, said to passkeys.js as JSON (not ``rejected_form``'s
    page); None when the form is ours."""
    try:
        await read_form(request)
    except FormRejected:
        return _problem(403, _(_FORM_REJECTED))
    return None


_SIGNED_OUT = N_("You are not signed in. Reload the page.")
_TOO_MANY = N_("An account has at most %(count)s passkeys. Remove one first.")


@router.post("/account/passkeys/options")
async def registration_options(request: Request, session: DbSession, runtime: AppRuntime) -> Response:
    """WebAuthn options for a new passkey of the signed-in account (JSON, for passkeys.js)."""
    current = await signed_in(request, session)
    if current is None:
        return _problem(401, _(_SIGNED_OUT))
    if (refused := await _form_refused(request)) is not None:
        return refused
    try:
        return _options(await passkeys.registration_options(session, runtime.settings, current.user))
    except InvalidInput:  # the one refusal here: the account holds the most passkeys it may
        return _problem(422, _(_TOO_MANY) % {"count": passkeys.MAX_PASSKEYS})


@router.post("/account/passkeys")
async def register(request: Request, session: DbSession, runtime: AppRuntime) -> Response:
    """Keep the passkey the browser made (its answer in ``credential``), named as typed."""
    current = await signed_in(request, session)
    if current is None:
        return redirect("/ui/sign-in")
    form = await read_form(request)  # a rejected form is answered by rejected_form (ui.pages.install)
    actor = page_actor(request, current.user, current.session.amr)
    try:
        passkey = await passkeys.register(
            session,
            runtime.flows,
            actor,
            current.user,
            field(form, "credential", _CREDENTIAL_MAX),
            field(form, "name", 100),
        )
        ownership.factor_added(current.user, current.session.amr)
    except InvalidInput:  # said plainly: the API-level reason names a field the user never saw
        text = _(
            "Your device's answer was not accepted (it may be registered already, or the page was open too long). "
            "Try again."
        )
        return message(request, _("The passkey was not added"), text, 400, account="/ui/account")
    response = redirect("/ui/account?notice=passkey_added")
    await factor_set_up(request, session, response, current, passkeys.kind_of(passkey))
    return response


@router.post("/account/passkeys/{passkey_id}/remove")
async def remove(passkey_id: str, request: Request, session: DbSession) -> Response:
    """Remove one of my passkeys."""
    current = await signed_in(request, session)
    if current is None:
        return redirect("/ui/sign-in")
    await read_form(request)
    try:
        actor = page_actor(request, current.user, current.session.amr)
        await passkeys.remove(session, actor, current.user, passkey_id[:40])
    except NotFound:
        return redirect("/ui/account")
    return redirect("/ui/account?notice=passkey_removed")


@router.post("/passkey/options")
async def sign_in_options(request: Request, session: DbSession, runtime: AppRuntime) -> Response:
    """WebAuthn options to sign in with any passkey of this site, chosen on the device (JSON, for passkeys.js)."""
    if (refused := await _form_refused(request)) is not None:
        return refused
    try:
        await runtime.throttle.admit("ui-sign-in", client_ip(request))
    except RateLimited:
        return _problem(429, _("Too many sign-in attempts. Please wait a moment and try again."))
    return _options(await passkeys.assertion_options(session, runtime.settings))


@router.post("/passkey")
async def sign_in_with_passkey(request: Request, session: DbSession, runtime: AppRuntime) -> Response:
    """Check the passkey's answer; then open a session and go on (to my account, or the authorization request)."""
    form = await read_form(request)
    next_url = continuation(field(form, "continue", 4000))
    actor = page_actor(request)
    try:
        credential = field(form, "credential", _CREDENTIAL_MAX)
        checked = partial(challenges.sign_in_with_passkey, session, runtime.flows, actor, credential)
        passed = await second_factor_counted(runtime, client_ip(request), checked)
    except PasskeyRefused:
        await session.commit()  # a wrong answer counts towards the account's lockout
        metrics.SIGN_INS.labels(method=PASSKEY, result="failed").inc()
        errors = {"passkey": _("This passkey could not sign you in. Try again, or use your password.")}
        return render(request, "sign_in.html", {"errors": errors, "next_url": next_url, "email": ""}, 400)
    metrics.SIGN_INS.labels(method=PASSKEY, result="succeeded").inc()
    response = redirect(next_url or "/ui/account")
    await open_session(request, session, response, passed.user, passed.amr)
    return response


@router.post("/mfa/passkey/options")
async def second_step_options(request: Request, session: DbSession, runtime: AppRuntime) -> Response:
    """WebAuthn options for the passkeys of the account whose sign-in is waiting for its second step."""
    if (refused := await _form_refused(request)) is not None:
        return refused
    token = challenge_token(request, runtime)
    try:
        return _options(await challenges.passkey_options(session, runtime.flows, token))
    except ChallengeDead:
        return _problem(410, _("This sign-in was open too long. Please sign in again."))


@router.post("/mfa/passkey", dependencies=[SIGN_IN_RATE])
async def answer_with_passkey(request: Request, session: DbSession, runtime: AppRuntime) -> Response:
    """The second step answered with a passkey: open the session and go on."""
    form = await read_form(request)
    next_url = continuation(field(form, "continue", 4000))
    org = field(form, "org", 100) or None
    await in_owners_language(request, session, runtime)  # before any refusal is worded
    token = challenge_token(request, runtime)
    credential = field(form, "credential", _CREDENTIAL_MAX)
    check = partial(challenges.answer_passkey, session, runtime.flows, page_actor(request), token, credential)
    refusal = {"passkey": _("That passkey was not accepted. Try again, or enter a code.")}
    return await answer_second_step(request, session, runtime, check, refusal, OTP, next_url, org)
