from tests.auth.conftest import instance
from tests.mailbox import mailbox

__all__ = ["instance", "mailbox"]
