"""Operating the bridge without a shell: the admin service, its JSON API and the dashboard."""
