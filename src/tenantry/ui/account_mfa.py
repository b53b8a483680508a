"""My account: the authenticator app (set up with a QR code, remove) and recovery codes; behind the session cookie."""

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import Response

from tenantry.core.actor import Actor
from tenantry.core.flows import ownership
from tenantry.core.mfa import service
from tenantry.core.mfa.schemas import OTP
from tenantry.core.mfa.service import EnrolmentPlace
from tenantry.core.users.models import User
from tenantry.errors import Conflict, InvalidInput, NotFound
from tenantry.i18n import _
from tenantry.ui.mfa import enrolment_page
from tenantry.ui.pages import PageRoute, field, message, redirect, render
from tenantry.ui.session import AccountForm, Holder, HolderRequest, factor_set_up
from tenantry.web.routing import writes

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
_ACTION = "/ui/account/mfa"


def _here(holder: HolderRequest) -> EnrolmentPlace:
    """This browser's session: the only one that sees the secret of the app it sets up, and confirms it."""
    return EnrolmentPlace.browser(holder.current.session.id)


@router.get("/account/mfa")
@writes  # a new secret is stored until confirmed
async def set_up_page(holder: Holder) -> Response:
    """Set up an authenticator app: a QR code (and its secret, to type in) and a field for the first code."""
    try:
        enrolment = await service.totp_to_confirm(
            holder.session, holder.runtime.settings, holder.current.user, _here(holder)
        )
    except Conflict:
        text = _("An authenticator app is already set up. Remove it first to set up another.")
        return message(holder.request, _("Authenticator app"), text, 409, account="/ui/account")
    page = {**enrolment_page(enrolment), "action": _ACTION, "required": False}
    return render(holder.request, "mfa_enrol.html", page)


@router.post("/account/mfa")
async def confirm(holder: Holder, form: AccountForm) -> Response:
    """Confirm the app with its current code; the recovery codes are shown once."""
    code = field(form, "code", 32)
    settings, user = holder.runtime.settings, holder.current.user
    try:
        flows = holder.runtime.flows
        codes = await service.confirm_totp(holder.session, flows, holder.actor, user, code, _here(holder))
        ownership.factor_added(user, holder.current.session.amr)
    except InvalidInput:
        enrolment = await service.totp_to_confirm(holder.session, settings, user, _here(holder))
        page = {**enrolment_page(enrolment), "action": _ACTION, "required": False}
        errors = {"code": _("That is not the code the app shows now")}
        return render(holder.request, "mfa_enrol.html", {**page, "errors": errors}, 400)
    except Conflict:  # confirmed in another tab, or set up anew elsewhere since this page: start again
        return redirect(_ACTION)
    response = render(holder.request, "recovery_codes.html", {"codes": codes, "next": "/ui/account"})
    await factor_set_up(holder.request, holder.session, response, holder.current, OTP)
    return response


async def _own_change(
    holder: HolderRequest, change: Callable[[Actor, User], Awaitable[Response]], gone: type[Exception]
) -> Response:
    """A posted change to the signed-in user's own second factor; ``gone`` (nothing left to change, another
    tab was quicker) goes back to the account page."""
    try:
        return await change(holder.actor, holder.current.user)
    except gone:
        return redirect("/ui/account")


@router.post("/account/mfa/recovery-codes")
async def new_recovery_codes(holder: Holder, _form: AccountForm) -> Response:
    """Make ten new recovery codes (the old ones stop working) and show them once."""

    async def regenerate(actor: Actor, user: User) -> Response:
        codes = await service.regenerate_recovery_codes(holder.session, actor, user)
        ownership.factor_added(user, holder.current.session.amr)
        return render(holder.request, "recovery_codes.html", {"codes": codes, "next": "/ui/account"})

    return await _own_change(holder, regenerate, Conflict)


@router.post("/account/mfa/remove")
async def remove(holder: Holder, _form: AccountForm) -> Response:
    """Remove the authenticator app and its recovery codes."""

    async def remove_app(actor: Actor, user: User) -> Response:
        await service.remove_totp(holder.session, actor, user)
        return redirect("/ui/account?notice=mfa_removed")

    return await _own_change(holder, remove_app, NotFound)
