"""`/admin/`: the server-rendered dashboard (plain HTML forms, one CSS file, no JavaScript).

Pages: overview, events (filtered, paginated), one event with its delivery timeline, dead letters with bulk
retry, a bulk job's progress, login. Every change is a POST form carrying the session's CSRF token. With no
BRIDGE_ADMIN_TOKEN the whole prefix answers 404, like the admin API, with a page that says how to enable it.

One package, imported one way: `blueprint` (the blueprint, the guard, login) <- `pages` (GET) and `actions`
(POST); `view`, `event_view` (pure presentation) and `session` (the cookie session) below them.
"""

from bridge.admin.dashboard import actions, pages  # noqa: F401 - their routes, on the blueprint
from bridge.admin.dashboard.blueprint import bp

__all__ = ["bp"]
