"""The landing page, and my account: profile, password, email verification, organizations and their
invitations, sign-out."""

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.credentials.policy import plain_words
from tenantry.core.fields import Name
from tenantry.core.flows import account, verification
from tenantry.core.memberships import joining
from tenantry.core.mfa import passkeys
from tenantry.core.mfa import service as mfa
from tenantry.core.users import password_change
from tenantry.core.users.schemas import PasswordChange
from tenantry.errors import Conflict, InvalidInput
from tenantry.i18n import N_, _
from tenantry.runtime import get_session, runtime_of
from tenantry.ui.pages import PageRoute, field, message, read_form, redirect, render
from tenantry.ui.session import AccountForm, Holder, HolderRequest, close_session, open_session, signed_in

router = APIRouter(prefix="/ui", route_class=PageRoute, include_in_schema=False)
_NAME = TypeAdapter(Name)
NOTICES = {
    "profile": N_("Your profile is saved."),
    "password": N_("Your password is changed. Other devices are signed out."),
    "verification": N_("We have sent you an email with a link to confirm your address."),
    "verified": N_("Your email address is already confirmed."),
    "mfa_removed": N_("Your authenticator app and recovery codes are removed."),
    "passkey_added": N_("Your passkey is added. You can sign in with it."),
    "passkey_removed": N_("The passkey is removed."),
    "activated": N_("Your account is active and you are signed in."),
}

_UNREADABLE = N_("cannot be used: it holds characters that are not allowed")
_PASSWORD_LABELS = {"current_password": N_("Current password"), "new_password": N_("New password")}


def _labelled(name: str, message: str) -> dict[str, str]:
    label = _PASSWORD_LABELS.get(name.split(".")[0])
    return {"field": _(label) if label else name.replace("_", " ").capitalize(), "problem": _(message)}


async def _account_page(holder: HolderRequest, status: int = 200, **context: Any) -> Response:
    request, session, current = holder.request, holder.session, holder.current
    notice_key = request.query_params.get("notice", "")
    notice = _(NOTICES[notice_key]) if notice_key in NOTICES else None
    page = {
        "user": current.user,
        "memberships": await account.memberships_of(session, current.user),
        "invitations": await joining.pending_for(session, current.user),
        "mfa": await mfa.status(session, runtime_of(request).settings, current.user),
        "passkeys": [passkeys.out(row) for row in await passkeys.of_user(session, current.user.id)],
        "notice": notice,
        "profile_errors": {},
        "password_errors": {},
        **context,
    }
    return render(request, "account.html", page, status)


@router.get("")
async def landing_page(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Where /ui leads: to my account when signed in, else to sign-in."""
    current = await signed_in(request, session)
    if current is None:
        text = _("Sign in to see and change your account: your name, your password and your organizations.")
        return message(request, _("Your account"), text, sign_in="/ui/sign-in", forgot="/ui/forgot-password")
    text = _("You are signed in as %(email)s.") % {"email": current.user.email}
    return message(request, _("Your account"), text, account="/ui/account", sign_out="/ui/sign-out")


@router.get("/account")
async def account_page(holder: Holder) -> Response:
    """My account; without a session, sign in first."""
    return await _account_page(holder)


@router.post("/account/profile")
async def save_profile(holder: Holder, form: AccountForm) -> Response:
    """Change your first and last name."""
    names: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in ("first_name", "last_name"):
        try:
            names[name] = _NAME.validate_python(field(form, name, 400).strip())
        except ValidationError:
            errors[name] = _("Use at most 200 characters, without control characters.")
    if errors:
        return await _account_page(holder, 400, profile_errors=errors)
    user = holder.current.user
    await account.update_own_profile(holder.session, holder.actor, user, names["first_name"], names["last_name"])
    return redirect("/ui/account?notice=profile")


@router.post("/account/password")
async def change_password(holder: Holder, form: AccountForm) -> Response:
    """Change your password; other sessions end, this browser stays signed in."""
    new_password = field(form, "new_password")
    if new_password != field(form, "new_password_repeat"):
        errors = {"new_password_repeat": _("The two new passwords differ")}
        return await _account_page(holder, 400, password_errors=errors)
    try:
        change = PasswordChange(
            current_password=field(form, "current_password") or " ", new_password=new_password or " "
        )
    except ValidationError as invalid:  # text a password cannot hold (a NUL character): said, not a 500
        errors = {
            str(item["loc"][0]): _("%(field)s: %(problem)s")
            % _labelled(str(item["loc"][0]), str(item.get("ctx", {}).get("error", _UNREADABLE)))
            for item in invalid.errors()
        }
        return await _account_page(holder, 400, password_errors=errors)
    session, runtime, current = holder.session, holder.runtime, holder.current
    try:
        await password_change.change_password(session, runtime.flows, holder.actor, current.user, change)
    except InvalidInput as error:
        if error.keep_changes:  # a wrong current password counts towards the lockout
            await session.commit()
        errors = {
            e.field: plain_words(e) if e.code else _("%(field)s: %(problem)s") % _labelled(e.field, e.message)
            for e in error.errors
        }
        return await _account_page(holder, 400, password_errors=errors)
    response = redirect("/ui/account?notice=password")
    await open_session(holder.request, session, response, current.user, current.session.amr)
    return response


@router.post("/account/verify-email")
async def send_verification(holder: Holder, _form: AccountForm) -> Response:
    """Mail yourself a link that confirms your address."""
    try:
        await verification.send_verification(
            holder.session, holder.runtime.flows, holder.actor, None, holder.current.user
        )
    except Conflict:
        return redirect("/ui/account?notice=verified")
    return redirect("/ui/account?notice=verification")


@router.get("/sign-out")
async def sign_out_page(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """Ask before signing out: a link alone never ends a session (the button posts the form)."""
    current = await signed_in(request, session, one_factor=True)
    if current is None:
        text = _("This browser has no session.")
        return message(request, _("You are not signed in"), text, sign_in="/ui/sign-in")
    page = {
        "heading": _("Sign out"),
        "intro": _("Sign %(email)s out of this browser?") % {"email": current.user.email},
        "action": "/ui/sign-out",
        "button": _("Sign out"),
        "token": "",
    }
    return render(request, "confirm.html", page)


@router.post("/sign-out")
async def sign_out(request: Request, session: AsyncSession = Depends(get_session)) -> Response:
    """End this browser's session."""
    await read_form(request)
    response = message(request, _("You are signed out"), _("See you soon."), sign_in="/ui/sign-in")
    await close_session(request, session, response)
    return response
