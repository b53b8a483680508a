"""Branding per organization: what its hosted pages and emails show in place of "Tenantry".

Every surface reads the organization's look through ``look_of`` (pages, emails, the served logo and CSS);
changes go through ``update`` (the org PATCH) and ``set_logo`` / ``remove_logo`` (the logo upload).
"""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from tenantry.core.actor import Actor
from tenantry.core.audit.service import record
from tenantry.core.fields import Email, Name, storable
from tenantry.core.orgs.models import DEFAULT_LANGUAGE, Organization, OrgBranding, live_org
from tenantry.db.base import utcnow
from tenantry.errors import FieldError, InvalidInput
from tenantry.i18n import N_

DEFAULT_COLOR = "#0b5cad"
LOGO_MAX_BYTES = 256 * 1024
LOGO_TYPES = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp"}
"""Raster images only: an SVG can carry script."""
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _color(value: str) -> str:
    if not _COLOR.fullmatch(value):
        raise ValueError(N_("must be a colour written #rrggbb (six hexadecimal digits)"))
    return value.lower()


def _header_text(value: str) -> str:
    """The sender name goes into a From header: one line of printable text."""
    if any(ch in value for ch in "\r\n\t") or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError(N_("must be one line of text without control characters"))
    return storable(value.strip())


Color = Annotated[str, AfterValidator(_color)]
SenderName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_header_text)]


class BrandingUpdate(BaseModel):
    """Changes to the branding: fields left out keep their value, null removes one. The logo has its own
    upload endpoint (``PUT /api/v1/orgs/{org}/branding/logo``)."""

    model_config = ConfigDict(extra="forbid")
    display_name: Name | None = Field(
        default=None, description="Shown in the header of hosted pages and emails instead of the org's name."
    )
    primary_color: Color | None = Field(default=None, description="Buttons and links, `#rrggbb`.")
    support_email: Email | None = Field(default=None, description="Named at the foot of every email.")
    email_from_name: SenderName | None = Field(
        default=None, description="The display name of the From header of the org's emails (the address stays)."
    )


class BrandingOut(BaseModel):
    display_name: str | None
    primary_color: str | None
    support_email: str | None
    email_from_name: str | None
    logo_url: str | None = Field(description="Where Tenantry serves the logo (null without one).")


@dataclass(frozen=True)
class Look:
    """What a page or an email of an organization shows."""

    org_id: str
    name: str
    color: str
    logo_path: str | None
    css_path: str | None
    support_email: str | None
    from_name: str | None
    default_language: str | None

    def for_email(self, base_url: str) -> dict[str, str | None]:
        return {
            "name": self.name,
            "color": self.color,
            "logo_url": f"{base_url}{self.logo_path}" if self.logo_path else None,
            "support_email": self.support_email,
        }


def logo_path(org_id: str, etag: str) -> str:
    """Where the logo is served; its version in the query lets browsers keep it for a year."""
    return f"/ui/brand/{org_id}/logo?v={etag}"


def css_path(org_id: str, color: str) -> str:
    return f"/ui/brand/{org_id}/style.css?v={color.lstrip('#')}"


async def _row(session: AsyncSession, org_id: str) -> OrgBranding | None:
    return await session.get(OrgBranding, org_id)


async def display_names(session: AsyncSession, orgs: Sequence[Organization]) -> dict[str, str]:
    """Each organization's name as its pages show it (``look_of``'s ``name``): the branding's display name, else
    the organization's name; in one query."""
    ids = [org.id for org in orgs]
    found = await session.execute(
        select(OrgBranding.org_id, OrgBranding.display_name).where(OrgBranding.org_id.in_(ids))
    )
    named = {org_id: name for org_id, name in found if name}
    return {org.id: named.get(org.id) or org.name for org in orgs}


async def look_of(session: AsyncSession, org: Organization) -> Look:
    row = await _row(session, org.id)
    color = (row.primary_color if row else None) or None
    language = org.settings.get(DEFAULT_LANGUAGE)
    return Look(
        org_id=org.id,
        name=(row.display_name if row else None) or org.name,
        color=color or DEFAULT_COLOR,
        logo_path=logo_path(org.id, row.logo_etag) if row and row.logo_etag else None,
        css_path=css_path(org.id, color) if color else None,
        support_email=row.support_email if row else None,
        from_name=row.email_from_name if row else None,
        default_language=language if isinstance(language, str) else None,
    )


async def out(session: AsyncSession, org: Organization) -> BrandingOut:
    row = await _row(session, org.id)
    return BrandingOut(
        display_name=row.display_name if row else None,
        primary_color=row.primary_color if row else None,
        support_email=row.support_email if row else None,
        email_from_name=row.email_from_name if row else None,
        logo_url=logo_path(org.id, row.logo_etag) if row and row.logo_etag else None,
    )


async def _ensure_row(session: AsyncSession, org: Organization) -> OrgBranding:
    row = await _row(session, org.id)
    if row is None:
        row = OrgBranding(org_id=org.id)
        session.add(row)
    return row


async def update(session: AsyncSession, org: Organization, payload: BrandingUpdate | None) -> None:
    """Apply the PATCH's ``branding`` (null: every text field back to the default; the logo stays)."""
    row = await _ensure_row(session, org)
    changes = (
        payload.model_dump(exclude_unset=True) if payload is not None else dict.fromkeys(BrandingUpdate.model_fields)
    )
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    await session.flush()


def _sniffed_type(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_logo(data: bytes, content_type: str) -> str:
    """The logo's media type, once the bytes are a PNG, JPEG or WebP image of the declared type and size."""
    declared = content_type.split(";", 1)[0].strip().lower()
    if declared not in LOGO_TYPES:
        raise InvalidInput([FieldError("content-type", "must be image/png, image/jpeg or image/webp")])
    if not data:
        raise InvalidInput([FieldError("body", "is empty: send the image's bytes")])
    if len(data) > LOGO_MAX_BYTES:
        raise InvalidInput([FieldError("body", f"must be at most {LOGO_MAX_BYTES // 1024} KiB")])
    sniffed = _sniffed_type(data)
    if sniffed != declared:
        raise InvalidInput([FieldError("body", f"is not a {LOGO_TYPES[declared].upper()} image")])
    return declared


async def set_logo(session: AsyncSession, actor: Actor, org: Organization, data: bytes, content_type: str) -> str:
    """Store the logo (checked by ``check_logo``); answers its new URL."""
    media_type = check_logo(data, content_type)
    row = await _ensure_row(session, org)
    row.logo, row.logo_type = data, media_type
    row.logo_etag = hashlib.sha256(data).hexdigest()[:32]
    await _logo_changed(session, actor, org, row)
    return logo_path(org.id, row.logo_etag)


async def remove_logo(session: AsyncSession, actor: Actor, org: Organization) -> None:
    row = await _row(session, org.id)
    if row is None or row.logo_etag is None:
        return
    row.logo = row.logo_type = row.logo_etag = None
    await _logo_changed(session, actor, org, row)


async def _logo_changed(session: AsyncSession, actor: Actor, org: Organization, row: OrgBranding) -> None:
    row.updated_at = utcnow()
    await session.flush()
    details = {"fields": ["branding.logo"]}
    record(session, actor, "org.updated", org_id=org.id, target_type="org", target_id=org.id, details=details)


@dataclass(frozen=True)
class Logo:
    data: bytes
    media_type: str
    etag: str


async def logo_of(session: AsyncSession, org_id: str) -> Logo | None:
    """The stored logo of a live organization, for serving."""
    row = await session.scalar(
        select(OrgBranding)
        .join(Organization, Organization.id == OrgBranding.org_id)
        .where(OrgBranding.org_id == org_id, live_org())
        .options(undefer(OrgBranding.logo))
    )
    if row is None or row.logo is None or row.logo_type is None or row.logo_etag is None:
        return None
    return Logo(row.logo, row.logo_type, row.logo_etag)


async def color_of(session: AsyncSession, org_id: str) -> str | None:
    row = await _row(session, org_id)
    return row.primary_color if row else None
