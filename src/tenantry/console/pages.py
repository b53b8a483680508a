"""What every console page shares: the signed-in viewer, their access to the organization, rendering,
the CSRF check (form field or htmx's header), and the pages that say no.

The viewer is the hosted pages' browser session turned into a ``Principal``; their rights in the
organization come from ``auth.policy.org_access`` under the route's ``Policy``, exactly as the API's
do, so a page and the API refuse the same people. Routes carry no ``policy`` attribute: the API's route
walker probes bearer credentials, which the console does not read (docs/api.md lists its routes as
"session cookie").
"""

import hmac
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Path, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from tenantry.auth.policy import OrgAccess, Policy, org_access
from tenantry.auth.principal import Principal
from tenantry.core.credentials.policy import plain_words
from tenantry.core.orgs.models import Organization
from tenantry.errors import InvalidInput, MalformedBody, NotFound, PermissionDenied, TenantryError
from tenantry.i18n import N_, _
from tenantry.runtime import get_runtime, get_session
from tenantry.ui.pages import (
    CSRF_FIELD,
    TOO_LARGE_FORM,
    UNREADABLE_FORM,
    UNREADABLE_FORM_TITLE,
    cookie_name,
    csrf_token,
    redirect,
    set_cookie,
)
from tenantry.ui.session import signed_in
from tenantry.web.body_limit import ContentTooLarge
from tenantry.web.routing import SAFE_METHODS, UnitOfWorkRoute

CSRF_HEADER = "x-csrf-token"
# The hosted pages' policy, plus this site's own scripts (htmx and console.js) and their requests.
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


class SignInFirst(Exception):
    """No browser session: the page sends the browser to the hosted sign-in, and back here after it."""


class FormRejected(Exception):
    """The request did not come from a console page (no or wrong CSRF token, foreign Origin)."""


@dataclass(frozen=True)
class Console:
    """The viewer's access to one organization, as a page needs it."""

    access: OrgAccess

    @property
    def org(self) -> Organization:
        return self.access.org

    @property
    def permissions(self) -> frozenset[str]:
        return self.access.actor.permissions

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def can_any(self, *permissions: str) -> bool:
        return any(permission in self.permissions for permission in permissions)


async def viewer(request: Request, session: AsyncSession) -> Principal:
    """The signed-in account, as the policies know callers, with its browser session (what an impersonation
    minted here is bound to: signing out ends it); ``SignInFirst`` without a session."""
    current = await signed_in(request, session)
    if current is None:
        raise SignInFirst
    return Principal(user=current.user, session_id=current.session.id)


def console_access(policy: Policy) -> Callable[..., Awaitable[Console]]:
    """Dependency: the viewer's access to ``{org}`` under ``policy`` (404 not theirs, 403 not allowed), and
    for a change, its CSRF token checked."""

    async def dependency(
        request: Request,
        org: Annotated[str, Path(description="Organization id or slug", max_length=100)],
        session: AsyncSession = Depends(get_session),
    ) -> Console:
        access = await org_access(request, session, policy, await viewer(request, session), org)
        if request.method not in SAFE_METHODS:  # every change, a form's or htmx's, carries the CSRF token
            await checked_form(request)
        return Console(access)

    return dependency


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token (field, or htmx's header) matches the cookie and its Origin
    (when sent) is ours."""
    runtime = get_runtime(request)
    origin = request.headers.get("origin")
    if origin and origin != "null":
        ours, theirs = urlsplit(runtime.settings.base_url), urlsplit(origin)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc) and theirs.netloc != request.url.netloc:
            raise FormRejected("foreign origin")
    form = await request.form()
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    cookie = request.cookies.get(cookie_name(runtime, "tenantry_csrf"), "")
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent.encode(), cookie.encode()):
        raise FormRejected("CSRF token mismatch")
    return form


def text_field(form: FormData, name: str, max_length: int = 1024) -> str:
    value = form.get(name)
    return value.strip()[:max_length] if isinstance(value, str) else ""


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status: int = 200,
    console: Console | None = None,
) -> HTMLResponse:
    """A console page (or, for htmx, a fragment) with the viewer's organization and rights in its context."""
    runtime = get_runtime(request)
    page: dict[str, Any] = {
        "csrf_token": csrf_token(request),
        "request_path": request.url.path,
        "org": console.org if console else None,
        "can": console.can if console else (lambda _: False),
        "can_any": console.can_any if console else (lambda *_: False),
        "viewer": console.access.principal.user if console else None,
        **(context or {}),
    }
    response = HTMLResponse(runtime.templates.render(f"console/{template}", page), status_code=status)
    response.headers.update(_SECURITY_HEADERS)
    new_csrf = getattr(request.state, "new_csrf", None)
    if new_csrf is not None:
        set_cookie(response, runtime, "tenantry_csrf", new_csrf)
    return response


def confirm_page(
    request: Request,
    console: Console,
    *,
    heading: str,
    question: str,
    action: str,
    button: str,
    back: str,
    danger: bool = True,
) -> HTMLResponse:
    """Ask before an action: the page's button posts to ``action``, its link goes ``back``."""
    page = {
        "heading": heading,
        "question": question,
        "action": action,
        "button": button,
        "danger": danger,
        "back": back,
    }
    return render(request, "confirm.html", page, console=console)


def go(request: Request, url: str) -> Response:
    """After a change: a redirect (303), which htmx follows as a whole page too (``HX-Redirect``)."""
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url, "Cache-Control": "no-store"})
    return redirect(url)


def _refusal(request: Request, error: Exception) -> Response:
    if isinstance(error, SignInFirst):
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = here if request.method == "GET" else "/console"
        return go(request, f"/ui/sign-in?continue={quote(target, safe='/')}")
    if isinstance(error, FormRejected):
        text = _("This form could not be accepted (it was open too long, or did not come from this site). Try again.")
        return render(request, "message.html", {"title": _("Please try again"), "text": text}, 403)
    if isinstance(error, (ContentTooLarge, MalformedBody)):
        too_large = isinstance(error, ContentTooLarge)
        page = {"title": _(UNREADABLE_FORM_TITLE), "text": _(TOO_LARGE_FORM if too_large else UNREADABLE_FORM)}
        return render(request, "message.html", page, 413 if too_large else 400)
    if isinstance(error, NotFound):
        page = {"title": _("Not found"), "text": _("There is no such page here.")}
        return render(request, "message.html", page, 404)
    if isinstance(error, PermissionDenied):
        page = {"title": _("Not allowed"), "text": _("You may not do this in this organization.")}
        return render(request, "message.html", page, 403)
    assert isinstance(error, TenantryError)
    return render(request, "message.html", {"title": _("This did not work"), "text": sentence(error.detail)}, 409)


class ConsoleRoute(UnitOfWorkRoute):
    """One transaction per request, as the API's routes; refusals and errors answer as pages, not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except (SignInFirst, FormRejected, TenantryError, ContentTooLarge) as error:
                return _refusal(request, error)

        return answer


FIELD_LABELS = {
    "form": N_("Form"),
    "name": N_("Name"),
    "slug": N_("Slug"),
    "description": N_("Description"),
    "email": N_("Email address"),
    "first_name": N_("First name"),
    "last_name": N_("Last name"),
    "roles": N_("Roles"),
    "role": N_("Role"),
    "permissions": N_("Permissions"),
    "partner_org": N_("Partner organization"),
    "file": N_("CSV file"),
    "min_length": N_("Shortest password"),
    "max_length": N_("Longest password"),
    "min_character_classes": N_("Kinds of characters to mix"),
    "blocked_words": N_("Blocked words"),
    "display_name": N_("Display name"),
    "primary_color": N_("Colour"),
    "support_email": N_("Support email address"),
    "email_from_name": N_("Sender name"),
    "logo": N_("Logo"),
    "webhook_url": N_("Endpoint URL"),
    "events": N_("Events"),
    "client_name": N_("Client name"),
    "client_type": N_("Client type"),
    "redirect_uris": N_("Redirect URIs"),
}
"""The console's form fields as their labels name them (a field not listed shows its name)."""
_PROBLEMS = {
    "missing": N_("enter a value"),
    "string_too_short": N_("enter at least %(min_length)s characters"),
    "string_too_long": N_("use at most %(max_length)s characters"),
    "string_pattern_mismatch": N_("use only the characters allowed here"),
    "too_long": N_("choose at most %(max_length)s"),
    "too_short": N_("choose at least %(min_length)s"),
    "int_parsing": N_("enter a whole number"),
    "greater_than_equal": N_("enter at least %(ge)s"),
    "less_than_equal": N_("enter at most %(le)s"),
    "literal_error": N_("choose one of the options"),
}
"""Pydantic's error types as the console says them; other types show the validator's message, translated
when the catalog has it (the core marks its messages with ``N_``)."""


SLUG_TAKEN = N_("another organization uses this slug")


def translated(message: str) -> str:
    """A domain message in the viewer's language when the catalog has it (the core marks its messages with
    ``N_``), else as written."""
    said = _(message)
    if said == message and ": " in message:  # "is not a valid email address: <the validator's reason>"
        said = _(message.split(": ", 1)[0])
    return said


def sentence(message: str) -> str:
    """A domain message as a sentence of its own, in the viewer's language when the catalog has it."""
    said = translated(message)
    return said[:1].upper() + said[1:]


def field_error(name: str, message: str) -> str:
    """One line of a form's error summary: the field's label, then what is wrong with it."""
    label = _(FIELD_LABELS[name]) if name in FIELD_LABELS else name.replace("_", " ").capitalize()
    return _("%(field)s: %(problem)s") % {"field": label, "problem": message}


def field_errors(error: ValidationError | InvalidInput, names: Mapping[str, str] | None = None) -> dict[str, str]:
    """A rejected form's errors by field name, each a sentence naming the field (the error summary's lines).
    ``names`` renames fields, where the form calls them otherwise than the service (``url`` as
    ``webhook_url``, say)."""
    found: dict[str, str] = {}
    names = names or {}
    if isinstance(error, InvalidInput):
        for item in error.errors:
            name = names.get(item.field) or names.get(item.field.split("[")[0].split(".")[0])
            name = name or item.field.split("[")[0].split(".")[0] or "form"
            found.setdefault(name, field_error(name, plain_words(item) if item.code else translated(item.message)))
        return found
    for detail in error.errors():
        name = str(detail["loc"][0]) if detail["loc"] else "form"
        name = names.get(name, name)
        if detail["type"] in _PROBLEMS:
            problem = _(_PROBLEMS[detail["type"]]) % dict(detail.get("ctx") or {})
        else:
            problem = translated(str(detail["msg"]).removeprefix("Value error, "))
        found.setdefault(name, field_error(name, problem))
    return found
