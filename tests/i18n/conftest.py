from tests.mailbox import mailbox

__all__ = ["mailbox"]
