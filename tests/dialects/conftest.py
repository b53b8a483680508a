from collections.abc import Iterator

import pytest

from tenantry.settings import Settings
from tests.live_server import serve


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    """The app served on a real port, for clients that speak HTTP over a socket (schemathesis)."""
    with serve(settings) as url:
        yield url
