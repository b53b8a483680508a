"""Answers that hand out a secret (an API key, a client or signing secret, an authenticator app's secret,
recovery codes) are never cached: ``web.headers.NO_STORE``, as the token endpoints answer.

A route that hands one out declares it with ``dependencies=[HANDS_OUT_A_SECRET]``, so every such route, on
every surface, gets the headers the same way. They are set on the route's answer; an error answer holds no
secret (and the problem documents are ``no-store`` where they need it).
"""

from typing import Any

from fastapi import Depends, Response

from tenantry.web.headers import NO_STORE


def _never_cached(response: Response) -> None:
    response.headers.update(NO_STORE)


HANDS_OUT_A_SECRET: Any = Depends(_never_cached)
