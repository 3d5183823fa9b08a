"""``minipos backup`` / ``restore`` without a server (minipos/backup.py): the archive's shape
and permissions, checksums that refuse a tampered archive, and the refusals that keep an
operator's database and pepper from being replaced by mistake. The backup taken while a real
server is under load is in tests/e2e/test_backup_restore.py."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import stat
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minipos import backup
from minipos.auth.principal import Role
from minipos.auth.service import create_key, digest, load_pepper
from minipos.cli import app
from minipos.config import Settings
from minipos.db import open_database


def shop(directory: Path, template: Path, *, secret_key: str = "") -> Settings:
    """A migrated SQLite shop in ``directory`` with one admin key (kept in ``key.txt``)."""
    directory.mkdir(parents=True, exist_ok=True)
    db_file = directory / "shop.sqlite3"
    shutil.copy(template, db_file)
    settings = Settings(
        database_url=f"sqlite:///{db_file}",
        secret_key=secret_key,
        secret_file=str(directory / "minipos.secret"),
    )
    pepper = load_pepper(settings.secret_key, settings.secret_file)
    with sqlite3.connect(db_file) as conn:
        key_count = conn.execute("SELECT count(*) FROM api_keys").fetchone()[0]
    assert key_count == 0
    db = open_database(settings.database_url)
    try:
        new = db.run(lambda conn: create_key(conn, pepper, Role.ADMIN, now_us=0))
    finally:
        db.close()
    (directory / "key.txt").write_text(new.key)
    return settings


def key_digests(db_file: Path) -> set[str]:
    with sqlite3.connect(db_file) as conn:
        return {row[0] for row in conn.execute("SELECT digest FROM api_keys")}


def elsewhere(settings: Settings, directory: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{directory / 'restored.sqlite3'}",
        secret_key=settings.secret_key,
        secret_file=str(directory / "restored.secret"),
    )


def test_archive_is_private_and_lists_checksums_and_restore_brings_the_pepper(
    tmp_path: Path, sqlite_template: Path
) -> None:
    settings = shop(tmp_path / "a", sqlite_template)
    archive = tmp_path / "nightly.tar.gz"
    manifest = backup.backup(settings, archive)

    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as tar:
        assert tar.getnames() == ["manifest.json", "minipos.sqlite3", "minipos.secret"]
        stored = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert stored["format"] == "minipos-backup"
    assert stored["version"] == 1
    assert stored["schema_revision"] == manifest.schema_revision is not None
    assert stored["pepper"] == "file"
    assert set(stored["files"]) == {"minipos.sqlite3", "minipos.secret"}

    target = elsewhere(settings, tmp_path / "b")
    backup.restore(target, archive)
    restored_db = tmp_path / "b" / "restored.sqlite3"
    restored_secret = Path(target.secret_file)
    assert restored_secret.read_bytes() == Path(settings.secret_file).read_bytes()
    assert stat.S_IMODE(restored_secret.stat().st_mode) == 0o600
    # The old key's digest, recomputed with the restored pepper, is the one stored.
    old_key = (tmp_path / "a" / "key.txt").read_text()
    pepper = load_pepper("", target.secret_file)
    assert digest(pepper, old_key) in key_digests(restored_db)


def tamper(archive: Path, member: str, out: Path) -> None:
    """Copy ``archive`` with one byte of ``member`` changed and the manifest left as it was."""
    with tarfile.open(archive) as src, tarfile.open(out, "w:gz") as dst:
        for info in src.getmembers():
            data = bytearray(src.extractfile(info).read())  # type: ignore[union-attr]
            if info.name == member:
                data[len(data) // 2] ^= 0x01
            dst.addfile(info, io.BytesIO(bytes(data)))


@pytest.mark.parametrize("member", ["minipos.sqlite3", "minipos.secret"])
def test_a_tampered_archive_is_refused_naming_the_file(
    tmp_path: Path, sqlite_template: Path, member: str
) -> None:
    settings = shop(tmp_path / "a", sqlite_template)
    archive = tmp_path / "good.tar.gz"
    backup.backup(settings, archive)
    bad = tmp_path / "bad.tar.gz"
    tamper(archive, member, bad)

    target = elsewhere(settings, tmp_path / "b")
    with pytest.raises(backup.BackupError) as refused:
        backup.restore(target, bad)
    assert f"{member} does not match its SHA-256" in str(refused.value)
    assert not (tmp_path / "b" / "restored.sqlite3").exists()
    assert not Path(target.secret_file).exists()
    # Nothing staged is left behind either.
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["restored.sqlite3.lock"]


def test_restore_never_replaces_a_database_without_force(
    tmp_path: Path, sqlite_template: Path
) -> None:
    settings = shop(tmp_path / "a", sqlite_template)
    archive = tmp_path / "a.tar.gz"
    backup.backup(settings, archive)
    other = shop(tmp_path / "b", sqlite_template)  # a second shop with its own key and pepper
    before = key_digests(tmp_path / "b" / "shop.sqlite3")

    with pytest.raises(backup.BackupError, match="exists; restore does not overwrite"):
        backup.restore(other, archive)
    assert key_digests(tmp_path / "b" / "shop.sqlite3") == before

    # --force replaces both, and stale WAL files of the old database do not survive.
    wal = tmp_path / "b" / "shop.sqlite3-wal"
    wal.write_bytes(b"stale")
    backup.restore(other, archive, force=True)
    assert not wal.exists()
    assert key_digests(tmp_path / "b" / "shop.sqlite3") == key_digests(
        tmp_path / "a" / "shop.sqlite3"
    )
    assert Path(other.secret_file).read_bytes() == Path(settings.secret_file).read_bytes()


def test_a_different_pepper_file_is_kept_unless_forced(
    tmp_path: Path, sqlite_template: Path
) -> None:
    settings = shop(tmp_path / "a", sqlite_template)
    archive = tmp_path / "a.tar.gz"
    backup.backup(settings, archive)
    target = elsewhere(settings, tmp_path / "b")
    (tmp_path / "b").mkdir()
    Path(target.secret_file).write_text("another shop's pepper\n")
    with pytest.raises(backup.BackupError, match="holds a different pepper"):
        backup.restore(target, archive)
    assert not (tmp_path / "b" / "restored.sqlite3").exists()


def test_pepper_from_the_environment_must_be_the_same_at_restore(
    tmp_path: Path, sqlite_template: Path
) -> None:
    settings = shop(tmp_path / "a", sqlite_template, secret_key="old-pepper")
    archive = tmp_path / "a.tar.gz"
    manifest = backup.backup(settings, archive)
    assert manifest.pepper == "environment"
    assert "minipos.secret" not in manifest.files  # an environment secret is never archived

    wrong = Settings(
        database_url=f"sqlite:///{tmp_path / 'b' / 'x.sqlite3'}", secret_key="new-pepper"
    )
    with pytest.raises(backup.BackupError, match="MINIPOS_SECRET_KEY differs"):
        backup.restore(wrong, archive)
    unset = Settings(
        database_url=wrong.database_url, secret_file=str(tmp_path / "b" / "minipos.secret")
    )
    with pytest.raises(backup.BackupError, match="set MINIPOS_SECRET_KEY to that value"):
        backup.restore(unset, archive)
    right = Settings(database_url=wrong.database_url, secret_key="old-pepper")
    backup.restore(right, archive)
    assert (tmp_path / "b" / "x.sqlite3").exists()


def test_postgresql_is_told_to_use_pg_dump(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No PostgreSQL is contacted: the answer depends on the URL only.
    monkeypatch.setenv("MINIPOS_DATABASE_URL", "postgresql://shop@db.invalid:5432/minipos")
    for command in (["backup", str(tmp_path / "x.tar.gz")], ["restore", str(tmp_path / "x")]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2
        assert "pg_dump" in result.output
        assert "pepper" in result.output
    assert not (tmp_path / "x.tar.gz").exists()


def test_something_else_than_an_archive_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    monkeypatch.setenv("MINIPOS_DATABASE_URL", f"sqlite:///{tmp_path / 'new.sqlite3'}")
    monkeypatch.delenv("MINIPOS_SECRET_KEY", raising=False)
    monkeypatch.setenv("MINIPOS_SECRET_FILE", str(tmp_path / "new.secret"))
    result = CliRunner().invoke(app, ["restore", str(junk)])
    assert result.exit_code == 2
    assert f"cannot read {junk}" in result.output
    assert not (tmp_path / "new.sqlite3").exists()
