"""Which service runs each job kind. A handler returns when to run again, or None."""

from __future__ import annotations

from doorstep.jobs.worker import Handler
from doorstep.services import autoreplies, operators, privacy

HANDLERS: dict[str, Handler] = {
    "purge_sessions": operators.purge_expired_sessions,
    autoreplies.JOB_KIND: autoreplies.check_autoreply,
    privacy.ERASURE_VACUUM: privacy.vacuum_after_erasure,
}
