"""/healthz (the process is up) and /readyz (database reachable, schema at the migration head)."""

from __future__ import annotations

from tests.helpers.webhooks import built_app


def test_healthz(client):
    response = client.get("/healthz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ok"})


def test_readyz_when_migrated(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "revision": db.head_revision}
    assert db.head_revision


def test_readyz_on_an_empty_unmigrated_database(tmp_path):
    with built_app(tmp_path / "empty.db", migrate=False) as (app, db):
        client = app.test_client()
        response = client.get("/readyz")
        assert response.status_code == 503
        data = response.get_json()
        assert data["status"] == "unavailable"
        assert data["error"]
        assert data["head"] == db.head_revision and data["current"] is None
        # healthz does not look at the database
        assert client.get("/healthz").status_code == 200
        db.upgrade()
        assert client.get("/readyz").status_code == 200


def test_readyz_when_the_database_cannot_be_opened(tmp_path):
    (tmp_path / "dir.db").mkdir()  # a directory where the SQLite file should be
    with built_app(tmp_path / "dir.db", migrate=False) as (app, _db):
        response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable"


def test_probes_answer_json_for_wrong_methods(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.get_json()["error"]
