"""Which database failures answer 503 "try again shortly" (the database is away) and which are faults (500)."""

from tenantry.db.errors import is_unavailable


class PostgresError(Exception):
    """What asyncpg raises: an error with the server's SQLSTATE."""

    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def test_too_many_connections_or_a_shutdown_is_the_database_away() -> None:
    assert is_unavailable(PostgresError("53300", "sorry, too many clients already"))
    assert is_unavailable(PostgresError("57P01", "terminating connection due to administrator command"))


def test_running_out_of_shared_memory_for_locks_is_a_fault_not_the_database_away() -> None:
    """A transaction holding more locks than ``max_locks_per_transaction`` fails the same way when tried again."""
    assert not is_unavailable(PostgresError("53200", "out of shared memory"))
