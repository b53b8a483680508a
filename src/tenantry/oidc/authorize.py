"""The authorization endpoint (code flow only) with the hosted organization chooser and consent page.

Errors about the client or the redirect URI show a page and never redirect (RFC 6749 section 4.1.2.1);
every other error goes back to the registered redirect URI as ``error=``, except an organization-owned
client's to a browser nobody signed in to (a page: RFC 9700 section 4.11.2). A browser without a session is
sent to the hosted sign-in page, which comes back here with the same request. A session without a second
factor, of an account that has one or must have one, or asked for one (``acr_values`` naming
``urn:tenantry:acr:2fa``), is sent to the hosted second step first, which also comes back here.
"""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.auth import oidc_tokens
from tenantry.auth.access_tokens import ACR_TWO_FACTORS
from tenantry.auth.second_factor import MFA_AMR, PASSWORD_AMR
from tenantry.core.clients import authorization
from tenantry.core.clients import service as clients
from tenantry.core.clients.authorization import CodeRequest
from tenantry.core.clients.models import OAuthClient
from tenantry.core.clients.schemas import AUTHORIZATION_CODE, redirect_registered
from tenantry.core.mfa import challenges
from tenantry.core.mfa import service as mfa
from tenantry.core.mfa.models import ENROLL, VERIFY
from tenantry.core.orgs import branding
from tenantry.core.orgs.models import Organization
from tenantry.db.base import utcnow
from tenantry.errors import MalformedBody, OAuthError
from tenantry.i18n import N_, _
from tenantry.oidc.discovery import SCOPES
from tenantry.runtime import Runtime, get_runtime, get_session
from tenantry.ui.mfa import to_second_step
from tenantry.ui.pages import message, read_form, redirect, render, use_org
from tenantry.ui.session import signed_in
from tenantry.web.forms import media_type
from tenantry.web.routing import UnitOfWorkRoute, writes

router = APIRouter(prefix="/oidc", route_class=UnitOfWorkRoute, include_in_schema=False)
PARAMS = (
    *("response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "prompt", "max_age"),
    *("login_hint", "ui_locales", "organization", "code_challenge", "code_challenge_method", "acr_values"),
    *("response_mode", "id_token_hint", "login_after"),
)
_UNSUPPORTED = {
    "request": "request_not_supported",
    "request_uri": "request_uri_not_supported",
    "registration": "registration_not_supported",
}
_NEVER_TWICE = {"client_id", "redirect_uri"}
"""Parameters that say where an error may be sent: repeated, the request ends on a page."""
_LONGEST = {"id_token_hint": 8192}
_PROMPTS = {"none", "login", "consent", "select_account"}
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
"""A scope value (RFC 6749 section 3.3): printable ASCII but for the space, ``"`` and ``\\``."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ASKS = {
    "openid": N_("Who you are (your account id)"),
    "email": N_("Your email address"),
    "profile": N_("Your name and language"),
    "offline_access": N_("Access while you are away"),
}
Params = dict[str, str]


class _Unsafe(Exception):
    """The client or redirect URI cannot be trusted: say so on a page, redirect nowhere."""


def _params(received: list[tuple[str, str]]) -> tuple[Params, OAuthError | None]:
    """The parameters this endpoint reads, and the first error to send back to the client about the others
    (a repeated or overlong one, a request object); a repeated ``client_id`` or ``redirect_uri`` raises."""
    found: Params = {}
    problem: OAuthError | None = None
    for key, value in received:
        if key in _UNSUPPORTED:
            problem = problem or OAuthError(_UNSUPPORTED[key], f"the {key} parameter is not supported")
        if key not in PARAMS:
            continue
        if key in found or len(value) > _LONGEST.get(key, 2000):
            wrong = OAuthError("invalid_request", f"parameter {key!r} is repeated or too long")
            if key in _NEVER_TWICE:
                raise wrong
            problem = problem or wrong
            continue
        found[key] = value
    return found, problem


async def _client_and_redirect(session: AsyncSession, params: Params) -> tuple[OAuthClient, str]:
    client = await clients.find(session, params.get("client_id", ""))
    if client is None:
        raise _Unsafe(_("The application that sent you here is not registered (unknown client_id)."))
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None or not redirect_registered(client.redirect_uris, redirect_uri):
        raise _Unsafe(_("The application sent you here with an address it has not registered (redirect_uri)."))
    return client, redirect_uri


def _with_query(url: str, values: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode(values)
    return urlunsplit(parts._replace(query=f"{parts.query}&{query}" if parts.query else query))


def _back_to_client(runtime: Runtime, redirect_uri: str, state: str | None, values: dict[str, str]) -> Response:
    answer = {**values, **({"state": state} if state is not None else {}), "iss": runtime.settings.oidc_issuer}
    return redirect(_with_query(redirect_uri, answer))


def _known(scope: str) -> str:
    """The values of ``scope`` this provider grants, once each, in the order asked."""
    return " ".join(dict.fromkeys(value for value in scope.split() if value in SCOPES))


def _scope(params: Params) -> str:
    """The scope granted: what was asked that this provider knows. A value it does not know (``phone``, an
    API's own) is ignored, as OIDC Core 3.1.2.1 says, and the token response's ``scope`` says what was granted
    (RFC 6749 section 5.1); a value no scope could be (RFC 6749 section 3.3), or asking only for unknown
    ones, is invalid_scope."""
    requested = params.get("scope", "openid")
    if not all(_SCOPE_TOKEN.fullmatch(value) for value in requested.split()):
        raise OAuthError("invalid_scope", "a scope value holds a character RFC 6749 section 3.3 does not allow")
    granted = _known(requested)
    if requested.split() and not granted:
        raise OAuthError("invalid_scope", f"no scope this provider grants was asked for: {' '.join(SCOPES)}")
    return granted


def _prompt(params: Params) -> set[str]:
    prompt = set(params.get("prompt", "").split())
    if not prompt <= _PROMPTS or ("none" in prompt and len(prompt) > 1):
        raise OAuthError("invalid_request", "prompt must be none, or any of login, consent, select_account")
    return prompt


def _login_after(params: Params) -> datetime | None:
    """``login_after``: the moment a sign-in was asked for (this endpoint's own, in the request it continues
    with), in microseconds since the epoch; a session opened before it does not count."""
    value = params.get("login_after")
    if value is None:
        return None
    if not _whole_number(value, 16):  # microseconds: 16 digits reach past the year 2200
        raise OAuthError("invalid_request", "login_after must be a whole number of microseconds")
    return _EPOCH + timedelta(microseconds=int(value))


def _max_age(params: Params) -> int | None:
    value = params.get("max_age")
    if value is None:
        return None
    if not _whole_number(value, 9):
        raise OAuthError("invalid_request", "max_age must be a whole number of seconds")
    return int(value)


def _whole_number(value: str, digits: int) -> bool:
    """ASCII digits only, at most ``digits`` of them (``str.isdigit`` also takes ``²`` and other scripts' digits,
    which ``int`` refuses)."""
    return 0 < len(value) <= digits and value.isascii() and value.isdigit()


async def _hinted_user(runtime: Runtime, params: Params) -> str | None:
    """The user an ``id_token_hint`` names (an ID token this provider issued, expired or not)."""
    hint = params.get("id_token_hint")
    if hint is None:
        return None
    claims = await oidc_tokens.read_id_token_hint(runtime, hint)
    if claims is None:
        raise OAuthError("invalid_request", "id_token_hint is not an ID token this provider issued")
    return str(claims["sub"])


def _without(params: Params, prompt: str, *drop: str) -> Params:
    """``params`` with one value taken out of ``prompt`` (once the user has done it) and ``drop`` removed."""
    kept = {key: value for key, value in params.items() if key not in drop}
    remaining = " ".join(sorted(set(params.get("prompt", "").split()) - {prompt}))
    kept.pop("prompt", None)
    return {**kept, "prompt": remaining} if remaining else kept


def _continuation(params: Params) -> str:
    return f"/oidc/authorize?{urlencode(params)}"


def _to_sign_in(client: OAuthClient, params: Params, again: bool) -> Response:
    """The hosted sign-in page, which comes back with this request (a forced login and max_age done).

    A browser signed in already (``again``) keeps its session until the new sign-in succeeds, which replaces
    it: a link alone ends no session. The request comes back with ``login_after`` (now), so the session it
    had cannot answer it: only a sign-in after this moment does."""
    continued = _without(params, "login", "max_age", "id_token_hint")
    if again:
        continued["login_after"] = str((utcnow() - _EPOCH) // timedelta(microseconds=1))
    target: dict[str, str] = {"continue": _continuation(continued)}
    org_ref = client.org_id or params.get("organization")
    if org_ref:
        target["org"] = org_ref
    if params.get("login_hint"):
        target["login_hint"] = params["login_hint"]
    if again:
        target["prompt"] = "login"
    return redirect(f"/ui/sign-in?{urlencode(target)}")


@router.get("/authorize")
@writes  # it hands out authorization codes
async def authorize(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """Authorization endpoint (OpenID Connect Core 3.1.2): authorization code flow, PKCE S256."""
    try:
        params, problem = _params(list(request.query_params.multi_items()))
        client, redirect_uri = await _client_and_redirect(session, params)
    except _Unsafe as error:
        return message(request, _("This sign-in cannot continue"), str(error), 400)
    except OAuthError:  # the request itself cannot be read: the page says so in the user's words
        text = _("The application sent a sign-in request that cannot be read (a parameter is repeated or too long).")
        return message(request, _("This sign-in cannot continue"), text, 400)
    try:
        if problem is not None:
            raise problem
        return await _authorize(request, session, runtime, client, redirect_uri, params)
    except OAuthError as error:
        if not await _may_send_back(request, session, client, error):
            text = _("The application sent a sign-in request this site does not accept (%(error)s).")
            return message(request, _("This sign-in cannot continue"), text % {"error": error.error}, 400)
        values = {"error": error.error, "error_description": error.detail}
        return _back_to_client(runtime, redirect_uri, params.get("state"), values)


async def _may_send_back(request: Request, session: AsyncSession, client: OAuthClient, error: OAuthError) -> bool:
    """Whether an error goes to the client's redirect URI: always once the browser is signed in, and the answer
    to ``prompt=none`` without a session (``login_required``, which OpenID Connect sends back whoever the
    client is); before a sign-in, only for a client whose redirect URIs are trusted (a platform client's)."""
    if error.error == "login_required" or authorization.errors_go_back_unsigned(client):
        return True
    return await signed_in(request, session) is not None


@router.post("/authorize")
async def authorize_form(request: Request) -> Response:
    """The authorization request sent as a form (OIDC Core 3.1.2.1): answered as the same request by GET,
    which a browser follows with its session cookie (SameSite=Lax keeps it off a cross-site POST)."""
    try:
        if media_type(request) != "application/x-www-form-urlencoded":
            raise MalformedBody("is not form-encoded (application/x-www-form-urlencoded)")
        form = await request.form()
    except MalformedBody:  # the developer's detail is no sentence for the person signing in
        text = _("The application sent a sign-in request this site cannot read (not a web form in UTF-8).")
        return message(request, _("This sign-in cannot continue"), text, 400)
    return redirect(f"/oidc/authorize?{urlencode([(k, v) for k, v in form.multi_items() if isinstance(v, str)])}")


async def _authorize(
    request: Request, session: AsyncSession, runtime: Runtime, client: OAuthClient, redirect_uri: str, params: Params
) -> Response:
    if not params.get("response_type"):
        raise OAuthError("invalid_request", "missing parameter: response_type")
    if params["response_type"] != "code":
        raise OAuthError("unsupported_response_type", "response_type must be code")
    if params.get("response_mode", "query") != "query":
        raise OAuthError("invalid_request", "response_mode must be query")
    if AUTHORIZATION_CODE not in client.grant_types:
        raise OAuthError("unauthorized_client", "this client may not use the authorization code flow")
    scope, prompt, max_age, login_after = _scope(params), _prompt(params), _max_age(params), _login_after(params)
    authorization.check_pkce_request(client, params.get("code_challenge"), params.get("code_challenge_method"))
    current = await signed_in(request, session, one_factor=True)  # a second step it lacks is asked below
    stale = current is not None and (
        (max_age is not None and utcnow() - current.session.created_at > timedelta(seconds=max_age))
        or (login_after is not None and current.session.created_at < login_after)
    )
    hinted = await _hinted_user(runtime, params)
    someone_else = current is not None and hinted is not None and hinted != current.user.id
    if current is None or "login" in prompt or stale or someone_else:
        if "none" in prompt:
            raise OAuthError("login_required", "the user is not signed in")
        return _to_sign_in(client, params, again=current is not None)
    user = current.user
    amr = current.session.amr or [PASSWORD_AMR]
    if MFA_AMR not in amr:
        need = await mfa.requirement(session, runtime.settings, user)
        if need.kind != "none" or ACR_TWO_FACTORS in params.get("acr_values", "").split():
            if "none" in prompt:
                raise OAuthError("interaction_required", "the user must sign in with a second factor")
            purpose = ENROLL if need.kind != "verify" else VERIFY
            token = await challenges.begin(session, user, purpose, amr, client.org_id)
            org_ref = client.org_id or params.get("organization")
            return to_second_step(runtime, token, purpose, _continuation(params), org_ref)
    choice = await authorization.choose_org(
        session, client, user, params.get("organization"), always_ask="select_account" in prompt
    )
    if choice.choices:
        if "none" in prompt:
            raise OAuthError("account_selection_required", "the user must choose an organization")
        names = await branding.display_names(session, choice.choices)
        orgs = [{"id": org.id, "name": names[org.id]} for org in choice.choices]
        context = {"client_name": client.name, "orgs": orgs, "email": user.email}
        fields = _without(params, "select_account", "organization")
        return render(request, "choose_org.html", {**context, "params": fields})
    org = choice.org
    if "consent" in prompt or (
        client.org_id is not None and not await authorization.has_consent(session, client, user, scope)
    ):
        if "none" in prompt:
            raise OAuthError("consent_required", "the user has not allowed this application yet")
        return await _consent_page(request, session, client, org, user.email, scope, params)
    code = await authorization.issue_code(
        session,
        CodeRequest(
            client=client,
            user=user,
            org=org,
            redirect_uri=redirect_uri,
            scope=scope,
            nonce=params.get("nonce"),
            code_challenge=params.get("code_challenge"),
            browser_session_id=current.session.id,
            auth_time=current.session.created_at,
            amr=amr,
        ),
        runtime.settings.oidc_code_ttl_seconds,
    )
    return _back_to_client(runtime, redirect_uri, params.get("state"), {"code": code})


async def _consent_page(
    request: Request,
    session: AsyncSession,
    client: OAuthClient,
    org: Organization | None,
    email: str,
    scope: str,
    params: Params,
) -> Response:
    await use_org(request, session, org)
    fields = {**_without(params, "consent", "organization"), "scope": scope}  # the values granted, not those ignored
    if org is not None:
        fields["organization"] = org.id
    context = {
        "client_name": client.name,
        "org_name": request.state.brand.name if org is not None else None,
        "email": email,
        "asks": [_(_ASKS[item]) for item in scope.split() if item in _ASKS],
        "params": fields,
    }
    return render(request, "consent.html", context)


@router.post("/consent")
async def consent(
    request: Request, session: AsyncSession = Depends(get_session), runtime: Runtime = Depends(get_runtime)
) -> Response:
    """The consent page's answer: allow (remembered, then the authorization goes on) or deny."""
    form = await read_form(request)
    params: Params = {key: value for key, value in form.items() if key in PARAMS and isinstance(value, str)}
    try:
        client, redirect_uri = await _client_and_redirect(session, params)
    except _Unsafe as error:
        return message(request, _("This sign-in cannot continue"), str(error), 400)
    current = await signed_in(request, session)
    if current is None:
        return _to_sign_in(client, params, again=False)
    if form.get("decision") != "allow":
        values = {"error": "access_denied", "error_description": "the user denied access"}
        return _back_to_client(runtime, redirect_uri, params.get("state"), values)
    await authorization.give_consent(session, client, current.user, _known(params.get("scope", "openid")))
    return redirect(_continuation(params))
