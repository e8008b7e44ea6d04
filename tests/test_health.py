"""/healthz reports the database, the broker and InfluxDB, each as configured."""

from __future__ import annotations

from service.app import create_app
from service.config import load_settings
from service.telemetry_store import close_store
from tests.conftest import ROOT
from tests.pg import free_port


def app_with(db_url, engine, **sections):
    settings = load_settings(
        path=ROOT / "config.toml", environ={}, overrides={"database": {"url": db_url}, **sections}
    )
    return create_app(settings, engine)


def test_health_is_ok_on_embedded_defaults(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json == {"status": "ok", "checks": {"database": "ok"}}


def test_health_checks_a_configured_broker_and_influxdb(
    db_url, engine, mosquitto, influxdb, tmp_path
):
    app = app_with(
        db_url,
        engine,
        mqtt={"host": mosquitto.host, "port": mosquitto.port},
        influxdb={**influxdb.settings(), "spool_dir": str(tmp_path / "spool")},
    )
    try:
        answer = app.test_client().get("/healthz")
    finally:
        close_store(app)
    assert answer.json["checks"] == {"database": "ok", "mqtt": "ok", "influxdb": "ok"}
    assert answer.status_code == 200


def test_an_unreachable_broker_makes_health_degraded_503(db_url, engine):
    app = app_with(db_url, engine, mqtt={"host": "127.0.0.1", "port": free_port()})
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 503
    assert answer.json["status"] == "degraded"
    assert answer.json["checks"]["mqtt"].startswith("error")
