"""Operating the bridge without a shell: the admin service, its JSON API and the dashboard.

The admin registers itself: the app factory calls `init_app(app)`, and nothing below the admin (the context,
the web views) imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def init_app(app: Flask) -> None:
    """Give `app` (already holding its BridgeContext) the admin service, the admin API and the dashboard."""
    from bridge.admin import api, dashboard
    from bridge.admin.service import ADMIN_KEY, AdminService
    from bridge.context import BridgeContext

    context: BridgeContext = app.extensions["bridge"]
    app.extensions[ADMIN_KEY] = AdminService(context.settings, context.db)
    for blueprint in (api.bp, dashboard.bp):
        app.register_blueprint(blueprint)
