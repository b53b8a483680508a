"""Every secret kept sealed at rest, sealed again with the current key of ``TENANTRY_SECRET_KEY``: what
``tenantry keys reseal`` runs before an older key is dropped (``core.secretbox``)."""

from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.mfa import service as mfa
from tenantry.core.webhooks import service as webhooks
from tenantry.settings import Settings


async def reseal_every_secret(session: AsyncSession, settings: Settings) -> int:
    """TOTP secrets and webhook signing secrets (current and rotated-out); how many were sealed again."""
    return await mfa.reseal_all(session, settings) + await webhooks.reseal_all(session, settings)
