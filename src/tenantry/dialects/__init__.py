"""Vendor dialects: each re-implements one vendor's API on the core, as its own mounted sub-application.

A dialect lives in ``tenantry.dialects.<name>`` and exposes ``create_app(runtime) -> FastAPI``, built by
``base.dialect_app``: its sub-application has its own error handlers (the vendor's error bodies), its own
OpenAPI document and, when the vendor sends credentials elsewhere, its own ``state.credential_sources``.
``TENANTRY_DIALECTS`` picks which are served and where (see ``Settings.dialects``). A dialect's module is
imported and its application built on its first request (``tenantry.web.deferred``): a served process
that no vendor's client calls does not carry the four of them.
"""

import re
from collections.abc import Callable
from functools import partial
from importlib import import_module

from fastapi import FastAPI
from starlette.types import ASGIApp

from tenantry.runtime import Runtime
from tenantry.web.deferred import DeferredMount

# name -> module; a dialect is served once it is listed here.
REGISTRY: dict[str, str] = {
    "akinon": "tenantry.dialects.akinon",
    "eva": "tenantry.dialects.eva",
    "saleschat": "tenantry.dialects.saleschat",
    "telm": "tenantry.dialects.telm",
}


def enabled(spec: str | None) -> dict[str, str]:
    """Parse ``TENANTRY_DIALECTS`` into {name: mount prefix}; every registered dialect when unset."""
    if spec is None:
        return {name: f"/compat/{name}" for name in REGISTRY}
    chosen: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, _, prefix = item.partition("=")
        name, prefix = name.strip(), (prefix.strip() or f"/compat/{name.strip()}").rstrip("/")
        if name not in REGISTRY:
            known = ", ".join(sorted(REGISTRY)) or "none"
            raise ValueError(f"unknown dialect {name!r} in TENANTRY_DIALECTS (known: {known})")
        if not prefix.startswith("/") or prefix in chosen.values():
            raise ValueError(f"dialect {name!r}: the prefix must start with '/' and be unique, got {prefix!r}")
        chosen[name] = prefix
    return chosen


class DialectMount(DeferredMount):
    """A deferred mount, except that paths holding a newline (``%0A`` in an id) reach the dialect as well,
    which then answers in its vendor's error body; Starlette's ``.*`` stops at a newline."""

    def __init__(self, path: str, build: Callable[[], ASGIApp], name: str) -> None:
        super().__init__(path, build, name=name)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def _build(name: str, runtime: Runtime) -> FastAPI:
    dialect: FastAPI = import_module(REGISTRY[name]).create_app(runtime)
    return dialect


def mount(app: FastAPI, runtime: Runtime) -> None:
    for name, prefix in enabled(runtime.settings.dialects).items():
        app.router.routes.append(DialectMount(prefix, partial(_build, name, runtime), name=f"dialect-{name}"))
