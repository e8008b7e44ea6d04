"""Device credentials: Mosquitto's hash format, rotation and revocation over the API and
the console, the migration of plaintext passwords, and the generated broker files."""

from __future__ import annotations

import subprocess

from click.testing import CliRunner
from sqlalchemy import MetaData, insert, text
from sqlmodel import select

from service import broker_access
from service.cli import cli
from service.config import MqttSettings
from service.db import make_engine
from service.migrate import upgrade
from service.models import AuditLog, Device
from service.rules.device_credentials import hash_password, new_password, verify_password
from tests.factories import refused

MQTT = MqttSettings(
    username="listener", password="pw", scheduler_username="scheduler", scheduler_password="pw2"
)


def test_the_hash_is_the_one_mosquitto_passwd_writes(tmp_path):
    import base64

    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "dev", "s3cret"], check=True)  # noqa: S603, S607
    written = passwd.read_text().strip().split(":", 1)[1]
    _, seven, iterations, salt, _digest = written.split("$")
    assert (seven, iterations) == ("7", "101")
    assert hash_password("s3cret", salt=base64.b64decode(salt)) == written
    assert verify_password("s3cret", written) and not verify_password("s3cret!", written)


def test_each_hash_has_its_own_salt_and_nothing_else_verifies():
    password = new_password()
    assert len(password) >= 32
    assert hash_password(password) != hash_password(password)
    assert not verify_password(password, "") and not verify_password(password, password)


def _device(client, world, slug="laser-ctl"):
    made = client.post(
        "/api/v1/devices",
        headers=world.headers("operator"),
        json={"site_id": world.sites["seongsu"].id, "slug": slug},
    )
    assert made.status_code == 201, made.json
    return made.json


def test_rotating_gives_a_new_password_once_and_audits_without_it(client, world, session):
    made = _device(client, world)
    rotated = client.post(f"/api/v1/devices/{made['id']}/rotate", headers=world.headers("admin"))
    assert rotated.status_code == 200, rotated.json
    assert rotated.json["username"] == "seongsu.laser-ctl"
    device = session.get(Device, made["id"])
    assert verify_password(rotated.json["password"], device.password_hash)
    assert not verify_password(made["password"], device.password_hash)
    [entry] = session.exec(select(AuditLog).where(AuditLog.action == "device.rotated")).all()
    assert rotated.json["password"] not in str(entry.detail)
    listed = client.get("/api/v1/devices", headers=world.headers("admin")).json
    assert "password" not in listed[0] and "password_hash" not in listed[0]


def test_a_revoked_device_leaves_the_broker_files_until_rotated(client, world, session):
    made = _device(client, world)
    _device(client, world, "cnc-ctl")
    revoked = client.post(f"/api/v1/devices/{made['id']}/revoke", headers=world.headers("operator"))
    assert revoked.status_code == 200 and revoked.json["revoked_at"]
    again = client.post(f"/api/v1/devices/{made['id']}/revoke", headers=world.headers("operator"))
    assert again.json["revoked_at"] == revoked.json["revoked_at"]
    files = broker_access.render_registry(session=session, mqtt=MQTT)
    assert "seongsu.laser-ctl" not in files.passwd + files.acl
    assert "seongsu.cnc-ctl:$7$101$" in files.passwd
    client.post(f"/api/v1/devices/{made['id']}/rotate", headers=world.headers("operator"))
    session.rollback()  # a new transaction sees what the request committed
    files = broker_access.render_registry(session=session, mqtt=MQTT)
    assert "seongsu.laser-ctl:$7$" in files.passwd
    actions = session.exec(
        select(AuditLog.action).where(AuditLog.subject == f"device:{made['id']}")
    )
    assert list(actions) == ["device.created", "device.revoked", "device.rotated"]


def test_rotating_a_device_of_another_site_is_forbidden_and_an_unknown_one_404(client, world):
    made = _device(client, world)
    answer = client.post(
        f"/api/v1/devices/{made['id']}/rotate", headers=world.headers("mullae_operator")
    )
    refused(answer, 403, "forbidden")
    refused(
        client.post("/api/v1/devices/999/revoke", headers=world.headers("admin")), 404, "not_found"
    )


def test_the_acl_gives_each_account_only_its_own_topics(client, world, session):
    _device(client, world)
    acl = broker_access.render_registry(session=session, mqtt=MQTT).acl
    blocks = {b.split("\n", 1)[0]: b for b in acl.strip().split("\n\n")}
    assert blocks["user listener"].splitlines()[1:] == ["topic read smartfab/#"]
    assert "topic write smartfab/+/+/cmd" in blocks["user scheduler"]
    assert blocks["user seongsu.laser-ctl"].splitlines()[1:] == [
        "topic write smartfab/seongsu/laser-ctl/telemetry",
        "topic write smartfab/seongsu/laser-ctl/event",
        "topic write smartfab/seongsu/laser-ctl/status",
        "topic write smartfab/seongsu/laser-ctl/cmd/ack",
        "topic read smartfab/seongsu/laser-ctl/cmd",
    ]
    assert acl.startswith("user ")  # no rules for anonymous clients


def _run(db_url, *args):
    env = {
        "SMARTFAB_DATABASE__URL": db_url,
        "SMARTFAB_MQTT__USERNAME": "listener",
        "SMARTFAB_MQTT__PASSWORD": "listener-password",
    }
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_the_console_adds_rotates_revokes_and_lists_devices(db_url, world, session, tmp_path):
    added = _run(db_url, "devices", "add", "seongsu", "laser-ctl", "--resource", "laser-1")
    assert added.exit_code == 0, added.output
    password = added.output.split("password:")[1].split()[0]
    assert "seongsu.laser-ctl" in added.output and "mqtt config" in added.output
    device = session.exec(select(Device).where(Device.slug == "laser-ctl")).one()
    assert device.resource_id == world.id("laser") and verify_password(
        password, device.password_hash
    )
    access = tmp_path / "access"
    rotated = _run(db_url, "devices", "rotate", "seongsu", "laser-ctl", "--apply", str(access))
    assert rotated.exit_code == 0, rotated.output
    assert "seongsu.laser-ctl:$7$" in (access / "passwd").read_text()
    assert (access / "passwd").stat().st_mode & 0o777 == 0o640
    assert "allow_anonymous false" in (access / "mosquitto.conf").read_text()
    revoked = _run(db_url, "devices", "revoke", "seongsu", "laser-ctl", "--apply", str(access))
    assert revoked.exit_code == 0, revoked.output
    assert "laser-ctl" not in (access / "passwd").read_text()
    listed = _run(db_url, "devices", "list")
    [row] = [line.split("\t") for line in listed.output.splitlines() if "laser-ctl" in line]
    assert row[:4] == ["seongsu", "laser-ctl", "laser-1", "no"] and row[4] != "-"
    entries = session.exec(select(AuditLog).where(AuditLog.subject == f"device:{device.id}"))
    assert all(e.actor_id is None and e.detail["via"] == "console" for e in entries)
    unknown = _run(db_url, "devices", "rotate", "seongsu", "nothing")
    assert unknown.exit_code == 1 and "no device" in unknown.output


def test_mqtt_config_refuses_service_accounts_without_passwords(db_url, world, tmp_path):
    env = {"SMARTFAB_DATABASE__URL": db_url}
    answer = CliRunner().invoke(cli, ["mqtt", "config", "--dir", str(tmp_path)], env=env)
    assert answer.exit_code == 1 and "username and password" in answer.output
    env |= {
        "SMARTFAB_MQTT__USERNAME": "listener",
        "SMARTFAB_MQTT__PASSWORD": "pw",
        "SMARTFAB_MQTT__SCHEDULER_USERNAME": "scheduler",
    }
    answer = CliRunner().invoke(cli, ["mqtt", "config", "--dir", str(tmp_path)], env=env)
    assert answer.exit_code == 1 and "scheduler_password" in answer.output
    assert not (tmp_path / "passwd").exists()


def test_the_migration_keeps_each_devices_password_as_a_hash_only(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0009")
    tables = MetaData()
    tables.reflect(engine, only=["site", "device"])
    site, device = tables.tables["site"], tables.tables["device"]
    with engine.begin() as conn:
        site_id = conn.execute(
            insert(site).values(
                slug="s",
                name="s",
                name_en="",
                timezone="Asia/Seoul",
                address="",
                machine_quota_hours=0,
                room_quota_hours=0,
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(device).values(
                site_id=site_id, slug="d", secret="old-password", online=False, last_values={}
            )
        )
    upgrade(engine, "0010")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM device")).mappings().one()
    engine.dispose()
    assert "secret" not in row and row["revoked_at"] is None
    assert verify_password("old-password", row["password_hash"])


def test_the_scheduler_connects_with_its_own_account_else_the_listeners():
    shared = MqttSettings(username="smartfab", password="a")
    assert shared.for_scheduler() == shared
    own = MqttSettings(username="l", password="a", scheduler_username="s", scheduler_password="b")
    assert (own.for_scheduler().username, own.for_scheduler().password) == ("s", "b")
    # One account doing both jobs gets both sets of rights, in one block.
    acl = broker_access.render(mqtt=shared, devices=[]).acl
    assert acl.count("user smartfab") == 1
    assert "topic read smartfab/#" in acl and "topic write smartfab/+/+/cmd" in acl
