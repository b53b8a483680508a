"""Exit 0 when a PostgreSQL server answers at the URL given, 1 otherwise (used by `make test`)."""

import asyncio
import sys

import asyncpg


async def ready(url: str) -> bool:
    try:
        connection = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(ready(sys.argv[1])) else 1)
