"""WSGI entry point for gunicorn: `gunicorn -c python:bridge.gunicorn_conf wsgi:app`."""

from bridge.app import create_app

app = create_app()
