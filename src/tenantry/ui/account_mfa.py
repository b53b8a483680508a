"""My account: the authenticator app (set up with a QR code, remove) and recovery codes; behind the session cookie."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.mfa import service
from tenantry.errors import Conflict, InvalidInput, NotFound
from tenantry.i18n import _
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.ui.mfa import enrolment_page
from tenantry.ui.pages import FormRejected, field, message, read_form, redirect, rejected_form, render
from tenantry.ui.session import page_actor, signed_in
from tenantry.web.routing import UnitOfWorkRoute, writes

router = APIRouter(prefix="/ui", route_class=UnitOfWorkRoute, include_in_schema=False)
_ACTION = "/ui/account/mfa"


@router.get("/account/mfa")
@writes  # a new secret is stored until confirmed
async def set_up_page(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Set up an authenticator app: a QR code (and its secret, to type in) and a field for the first code."""
    current = await signed_in(request, session)
    if current is None:
        return redirect("/ui/sign-in")
    try:
        enrolment = await service.totp_to_confirm(session, runtime.settings, current.user)
    except Conflict:
        text = _("An authenticator app is already set up. Remove it first to set up another.")
        return message(request, _("Authenticator app"), text, 409, account="/ui/account")
    return render(request, "mfa_enrol.html", {**enrolment_page(enrolment), "action": _ACTION, "required": False})


@router.post("/account/mfa")
async def confirm(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Confirm the app with its current code; the recovery codes are shown once."""
    current = await signed_in(request, session)
    if current is None:
        return redirect("/ui/sign-in")
    try:
        form = await read_form(request)
    except FormRejected:
        return rejected_form(request)
    code = field(form, "code", 32)
    actor = page_actor(request, current.user)
    try:
        codes = await service.confirm_totp(session, runtime.settings, actor, current.user, code)
    except InvalidInput:
        enrolment = await service.totp_to_confirm(session, runtime.settings, current.user)
        page = {**enrolment_page(enrolment), "action": _ACTION, "required": False}
        return render(
            request, "mfa_enrol.html", {**page, "errors": {"code": _("That is not the code the app shows now")}}, 400
        )
    except Conflict:
        return redirect("/ui/account")
    return render(request, "recovery_codes.html", {"codes": codes, "next": "/ui/account"})


@router.post("/account/mfa/recovery-codes")
async def new_recovery_codes(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Make ten new recovery codes (the old ones stop working) and show them once."""
    current = await signed_in(request, session)
    if current is None:
        return redirect("/ui/sign-in")
    try:
        await read_form(request)
    except FormRejected:
        return rejected_form(request)
    try:
        codes = await service.regenerate_recovery_codes(session, page_actor(request, current.user), current.user)
    except Conflict:
        return redirect("/ui/account")
    return render(request, "recovery_codes.html", {"codes": codes, "next": "/ui/account"})


@router.post("/account/mfa/remove")
async def remove(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Remove the authenticator app and its recovery codes."""
    current = await signed_in(request, session)
    if current is None:
        return redirect("/ui/sign-in")
    try:
        await read_form(request)
    except FormRejected:
        return rejected_form(request)
    try:
        await service.remove_totp(session, page_actor(request, current.user), current.user)
    except NotFound:
        return redirect("/ui/account")
    return redirect("/ui/account?notice=mfa_removed")
