from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from tenantry.core.onetime.models import OneTimeToken


async def void_unspent_of_all(session: AsyncSession, user_ids: Sequence[str], at: datetime) -> None:
    """Every token of the accounts not used or voided yet stops working, in one statement (the caller bounds the
    list). A redemption under way waits for it, then finds its token voided (``service.redeem``)."""
    await session.execute(
        update(OneTimeToken)
        .where(OneTimeToken.user_id.in_(user_ids), OneTimeToken.used_at.is_(None), OneTimeToken.voided_at.is_(None))
        .values(voided_at=at)
        .execution_options(synchronize_session=False)
    )
