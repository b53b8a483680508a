"""Settings: name, slug, description and the MFA requirement; the password policy; branding (the logo
too); SCIM's base URL. The organization's webhooks (``console.webhooks``) and OAuth clients
(``console.clients``) are managed on this page as well: each section shows to those who hold its permission,
and each change runs under the policy of the API route that makes it (``PATCH /orgs/{org}``, the logo's
``PUT``, the webhooks' and clients' routes)."""

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from tenantry import scim
from tenantry.auth.policy import Policy
from tenantry.console.forms import SLUG_TAKEN, field_error, field_errors, text_field
from tenantry.console.pages import Console, ConsoleRoute, console_access
from tenantry.core.clients import service as oauth
from tenantry.core.credentials.policy import policy_for
from tenantry.core.credentials.schemas import PasswordPolicyUpdate
from tenantry.core.events.catalog import EVENT_TYPES
from tenantry.core.orgs import branding
from tenantry.core.orgs import service as orgs
from tenantry.core.orgs.branding import BrandingUpdate
from tenantry.core.orgs.models import MFA_REQUIRED
from tenantry.core.orgs.schemas import OrgUpdate
from tenantry.core.webhooks import service as webhook_endpoints
from tenantry.errors import Conflict, InvalidInput, PermissionDenied
from tenantry.i18n import N_, _

router = APIRouter(prefix="/console/{org}/settings", route_class=ConsoleRoute, include_in_schema=False)
LISTED = 100
SECTIONS = ("orgs:update", "webhooks:write", "clients:write")
"""Who may open the page: the holder of any of these sees the sections it governs."""
_UPDATE = Policy("orgs:update", impersonation=False)
NOTICES = {
    "saved": N_("Settings saved."),
    "password-policy": N_("Password policy saved."),
    "branding": N_("Branding saved."),
    "logo-removed": N_("The logo is removed."),
    "webhook-deleted": N_("The webhook is deleted."),
    "client-deleted": N_("The client is deleted."),
}
POLICY_SWITCHES = (
    "require_lowercase",
    "require_uppercase",
    "require_digit",
    "require_symbol",
    "block_common",
    "block_context",
)
BRANDING_FIELDS = ("display_name", "primary_color", "support_email", "email_from_name")


async def settings_page(console: Console, status: int = 200, **context: Any) -> Response:
    """The page with each section its viewer may use; ``context`` adds a form's errors, the values it sent
    (kept over the stored ones) or a secret to show once."""
    org, session = console.org, console.session
    values: dict[str, Any] = {}
    look = None
    if console.can("orgs:update"):
        look = await branding.out(session, org)
        values = {
            "name": org.name,
            "slug": org.slug,
            "description": org.description or "",
            "mfa_required": bool(org.settings.get(MFA_REQUIRED)),
            **policy_for(org).as_settings(),
            **{name: getattr(look, name) or "" for name in BRANDING_FIELDS},
        }
        values["blocked_words"] = "\n".join(values["blocked_words"])
    values.update(context.pop("values", {}))
    webhooks = None
    if console.can("webhooks:write"):
        webhooks = await webhook_endpoints.page(session, webhook_endpoints.Owner(org.id), after=None, limit=LISTED)
    clients = None
    if console.can("clients:write"):
        clients = [oauth.client_out(found) for found in (await oauth.page(session, org, after=None, limit=LISTED))[0]]
    notice = NOTICES.get(console.request.query_params.get("notice", ""))
    page = {
        "values": values,
        "logo_url": look.logo_url if look else None,
        "webhooks": webhooks,
        "event_types": sorted(EVENT_TYPES),
        "clients": clients,
        "scim_url": f"{console.runtime.settings.base_url.rstrip('/')}{scim.PREFIX}",
        "logo_types": ", ".join(kind.upper() for kind in branding.LOGO_TYPES.values()),
        "logo_kib": branding.LOGO_MAX_BYTES // 1024,
        "notice_text": _(notice) if notice else None,
        **context,
    }
    return console.render("settings.html", page, status)


def _page_access(console: Console) -> Console:
    if not any(console.can(permission) for permission in SECTIONS):
        raise PermissionDenied("you may not change this organization's settings")
    return console


@router.get("")
async def show_settings(console: Console = Depends(console_access(Policy(impersonation=False)))) -> Response:
    """The organization's settings, each section for those who may change it: name, slug, description, MFA
    requirement, password policy and branding (`orgs:update`); SCIM's base URL; webhooks (`webhooks:write`);
    OAuth clients (`clients:write`)."""
    return await settings_page(_page_access(console))


async def _saved(console: Console, update: OrgUpdate, values: dict[str, Any], notice: str) -> Response:
    """``update`` made through the organization service (the API's PATCH), or the page with what is wrong."""
    try:
        org = await orgs.update_org(console.session, console.access.actor, console.org, update)
    except InvalidInput as error:
        names = {f"password_policy.{name}": name for name in PasswordPolicyUpdate.model_fields}
        errors = field_errors(error, names)
        if "max_length" in errors:  # the one rule across fields: the longest allowed is at least the shortest
            wanted = {"min": values.get("min_length", "")}
            errors["max_length"] = field_error("max_length", _("enter at least the minimum length (%(min)s)") % wanted)
        return await settings_page(console, 400, errors=errors, values=values)
    except Conflict:
        errors = {"slug": field_error("slug", _(SLUG_TAKEN))}
        return await settings_page(console, 409, errors=errors, values=values)
    return console.go(f"/console/{org.slug}/settings?notice={notice}")


async def _validated(
    console: Console, values: dict[str, Any], notice: str, update: Callable[[], OrgUpdate]
) -> Response:
    """The ``update`` the form's ``values`` make, saved; or the page with what the validation refused."""
    try:
        made = update()
    except ValidationError as error:
        return await settings_page(console, 400, errors=field_errors(error), values=values)
    return await _saved(console, made, values, notice)


@router.post("")
async def save_settings(console: Console = Depends(console_access(_UPDATE))) -> Response:
    """Save the name, slug, description and MFA requirement."""
    form = await console.form()
    values: dict[str, Any] = {name: text_field(form, name, 2000) for name in ("name", "slug", "description")}
    values["mfa_required"] = form.get("mfa_required") == "on"
    if not values["name"]:
        errors = {"name": field_error("name", _("enter a name"))}
        return await settings_page(console, 400, errors=errors, values=values)
    return await _validated(console, values, "saved", lambda: OrgUpdate(**values))


def _words(form: FormData) -> list[str]:
    """The blocked words: one a line (commas separate them too)."""
    text = text_field(form, "blocked_words", 20_000)
    return [word.strip() for line in text.splitlines() for word in line.split(",") if word.strip()]


@router.post("/password-policy")
async def save_password_policy(console: Console = Depends(console_access(_UPDATE))) -> Response:
    """Save the password policy: every field of the API's `password_policy`, as the form shows them."""
    form = await console.form()
    sent: dict[str, Any] = {
        name: text_field(form, name, 10) for name in ("min_length", "max_length", "min_character_classes")
    }
    sent.update({name: form.get(name) == "on" for name in POLICY_SWITCHES})
    sent["blocked_words"] = _words(form)
    values = {**sent, "blocked_words": "\n".join(sent["blocked_words"])}
    return await _validated(
        console, values, "password-policy", lambda: OrgUpdate(password_policy=PasswordPolicyUpdate.model_validate(sent))
    )


@router.post("/branding")
async def save_branding(console: Console = Depends(console_access(_UPDATE))) -> Response:
    """Save the display name, colour, support address and sender name (empty: the default), and store the logo
    when one is chosen (PNG, JPEG or WebP, as the API's upload takes it)."""
    form = await console.form()
    values = {name: text_field(form, name, 1000) for name in BRANDING_FIELDS}
    upload = form.get("logo")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(branding.LOGO_MAX_BYTES + 1)
        try:
            await branding.set_logo(console.session, console.access.actor, console.org, data, upload.content_type or "")
        except InvalidInput:
            limits = {"types": ", ".join(kind.upper() for kind in branding.LOGO_TYPES.values())}
            limits["kib"] = str(branding.LOGO_MAX_BYTES // 1024)
            problem = _("choose a %(types)s image of at most %(kib)s KiB") % limits
            return await settings_page(console, 400, errors={"logo": field_error("logo", problem)}, values=values)
    look = {name: value or None for name, value in values.items()}
    return await _validated(
        console, values, "branding", lambda: OrgUpdate(branding=BrandingUpdate.model_validate(look))
    )


@router.post("/branding/logo/remove")
async def remove_logo(console: Console = Depends(console_access(_UPDATE))) -> Response:
    """Remove the logo; the organization's pages and emails show its name alone."""
    await branding.remove_logo(console.session, console.access.actor, console.org)
    return console.go(f"/console/{console.org.slug}/settings?notice=logo-removed")
