"""Probes and published keys: public on purpose (load balancers and token verifiers call them unauthenticated)."""

from typing import Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tenantry.runtime import Runtime, get_runtime
from tenantry.web.headers import ANY_ORIGIN

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database cannot be reached"}})
async def readyz(runtime: Runtime = Depends(get_runtime)) -> JSONResponse:
    """The database answers."""
    try:
        async with runtime.database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


@router.get("/.well-known/jwks.json")
async def jwks(response: Response, runtime: Runtime = Depends(get_runtime)) -> dict[str, Any]:
    """Public keys that verify Tenantry's access tokens and ID tokens (RFC 7517); browser apps may read them."""
    response.headers.update(ANY_ORIGIN)
    return await runtime.keyring.jwks()
