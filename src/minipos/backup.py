"""``minipos backup`` and ``minipos restore``: the SQLite database and the API key pepper in one
archive (docs/deploy.md).

The database is copied with SQLite's online backup API in one step: that is one read
transaction, so the copy is the consistent snapshot of the moment it began, and in WAL mode the
running server's writer is never blocked by it. The pepper travels with it because every stored
API key is a digest peppered with it: a database restored without its pepper answers every old
key with "Invalid token.".

The archive is a ``tar.gz`` created 0600 (it holds the pepper) with ``manifest.json`` first:
format version, schema revision, time, and the SHA-256 of every other member. Restore checks
every checksum before it writes anything.

PostgreSQL is backed up with ``pg_dump``; these commands say so instead of guessing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac
import io
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import msgspec
import typer

import minipos
from minipos.clitools import settings_or_exit
from minipos.config import Settings
from minipos.db.database import sqlite_path

FORMAT = "minipos-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "minipos.sqlite3"
PEPPER = "minipos.secret"
_CHUNK = 1 << 20

PepperSource = Literal["file", "environment", "missing"]

POSTGRES_ADVICE = (
    "MINIPOS_DATABASE_URL is PostgreSQL: back it up with pg_dump (e.g. "
    "`pg_dump -Fc -f minipos.dump DBNAME`) and restore with pg_restore; keep the API key pepper "
    "(MINIPOS_SECRET_KEY or the MINIPOS_SECRET_FILE file) with it, or every old key fails "
    "(docs/deploy.md)"
)


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


class FileEntry(msgspec.Struct, frozen=True):
    sha256: str
    size: int


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    format: str = FORMAT
    version: int = FORMAT_VERSION
    minipos_version: str
    schema_revision: str | None
    created_at: str
    #: Where the pepper was: in the archive ("file"), only in MINIPOS_SECRET_KEY
    #: ("environment", so the operator must keep it), or nowhere ("missing").
    pepper: PepperSource
    #: HMAC of a fixed text under the pepper: restore can tell whether the pepper it will use
    #: is the one the keys were made with, without the archive holding an environment secret.
    pepper_check: str | None
    files: dict[str, FileEntry]


# --- backup ---------------------------------------------------------------------------------


def backup(settings: Settings, destination: Path) -> Manifest:
    """Write a consistent copy of the database and the pepper to ``destination`` (replaced
    atomically, so a failed run never leaves a half archive under that name)."""
    db_path = _sqlite_file(settings)
    if not db_path.is_file():
        raise BackupError(f"{db_path} does not exist: nothing to back up (MINIPOS_DATABASE_URL)")
    pepper, source = _current_pepper(settings)
    destination = destination.absolute()
    # The snapshot is staged beside the archive, not in /tmp: it is as large as the database.
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".minipos-backup-") as tmp:
        snapshot = Path(tmp) / DATABASE
        revision = _snapshot(db_path, snapshot)
        members: dict[str, Path | bytes] = {DATABASE: snapshot}
        if source == "file":
            members[PEPPER] = pepper
        manifest = Manifest(
            minipos_version=minipos.__version__,
            schema_revision=revision,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            pepper=source,
            pepper_check=_pepper_check(pepper) if pepper else None,
            files={name: _entry(value) for name, value in members.items()},
        )
        _write_archive(destination, manifest, members)
    return manifest


def _snapshot(source: Path, target: Path) -> str | None:
    """Copy ``source`` into ``target`` with the online backup API; the copy's schema revision."""
    with contextlib.closing(sqlite3.connect(source, timeout=10)) as src:
        src.execute("PRAGMA busy_timeout=10000")
        with contextlib.closing(sqlite3.connect(target)) as dst:
            # pages=-1: the whole database in one step, i.e. under one read transaction, so the
            # copy is one consistent snapshot (stepwise copies restart when the server writes).
            src.backup(dst, pages=-1)
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"the copy of {source} fails integrity_check: {check}")
            # Fold any WAL into the file, so the one file is the whole copy once closed.
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return _revision(dst)


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return None if row is None else str(row[0])


def _write_archive(destination: Path, manifest: Manifest, members: dict[str, Path | bytes]) -> None:
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o600)  # mkstemp makes 0600 already; the archive holds the pepper
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add(tar, MANIFEST, msgspec.json.format(msgspec.json.encode(manifest)))
                for name, value in members.items():
                    _add(tar, name, value)
            raw.flush()
            os.fsync(raw.fileno())
        tmp.replace(destination)
        _fsync_dir(destination.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _add(tar: tarfile.TarFile, name: str, value: Path | bytes) -> None:
    info = tarfile.TarInfo(name)
    info.mode = 0o600
    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    if isinstance(value, bytes):
        info.size = len(value)
        tar.addfile(info, io.BytesIO(value))
    else:
        info.size = value.stat().st_size
        with value.open("rb") as handle:
            tar.addfile(info, handle)


# --- restore --------------------------------------------------------------------------------


def read_manifest(archive: Path) -> Manifest:
    with _open_archive(archive) as tar:
        return _manifest(tar, archive)


def restore(settings: Settings, archive: Path, *, force: bool = False) -> Manifest:
    """Check every checksum, then put the database and the pepper where the settings say.

    Refuses to replace an existing database (or a different pepper file) unless ``force``, and
    refuses while a server holds the database."""
    db_path = _sqlite_file(settings).absolute()
    if db_path.exists() and not force:
        raise BackupError(
            f"{db_path} exists; restore does not overwrite a database unless --force "
            "(stop the server first)"
        )
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with _hold_server_lock(db_path), _open_archive(archive) as tar:
        manifest = _manifest(tar, archive)
        with tempfile.TemporaryDirectory(dir=db_path.parent, prefix=".minipos-restore-") as tmp:
            extracted = _extract_verified(tar, manifest, archive, Path(tmp))
            pepper = extracted.get(PEPPER)
            staged_db = Path(tmp) / DATABASE
            _check_restored_database(staged_db, archive)
            pepper_file = _pepper_plan(settings, manifest, pepper, force)
            # Everything is checked: only now is anything of the operator's replaced.
            for stale in ("-wal", "-shm"):
                # An old WAL beside the new file would be replayed into it.
                db_path.with_name(db_path.name + stale).unlink(missing_ok=True)
            staged_db.chmod(0o600)
            staged_db.replace(db_path)
            _fsync_dir(db_path.parent)
            if pepper_file is not None and pepper is not None:
                _write_private(pepper_file, pepper)
    return manifest


def _extract_verified(
    tar: tarfile.TarFile, manifest: Manifest, archive: Path, into: Path
) -> dict[str, bytes]:
    """Extract the members the manifest lists, checking each one's SHA-256 as it streams; the
    small ones (the pepper) are returned, the database lands in ``into``."""
    small: dict[str, bytes] = {}
    seen: set[str] = set()
    for member in tar:
        if member.name == MANIFEST:
            continue
        expected = manifest.files.get(member.name)
        if expected is None or not member.isfile() or member.name in seen:
            raise BackupError(f"{archive}: unexpected member {member.name!r}; not a MiniPOS backup")
        seen.add(member.name)
        source = tar.extractfile(member)
        assert source is not None  # a regular file always has content
        digest = hashlib.sha256()
        if member.name == DATABASE:
            with (into / DATABASE).open("wb") as out:
                _copy_hashing(source, out, digest)
                out.flush()
                os.fsync(out.fileno())
        else:
            buffer = io.BytesIO()
            _copy_hashing(source, buffer, digest)
            small[member.name] = buffer.getvalue()
        if digest.hexdigest() != expected.sha256:
            raise BackupError(
                f"{archive}: {member.name} does not match its SHA-256 in {MANIFEST} "
                "(the archive is damaged or was altered); nothing was restored"
            )
    missing = sorted(set(manifest.files) - seen)
    if missing:
        raise BackupError(f"{archive}: {', '.join(missing)} missing; nothing was restored")
    if DATABASE not in seen:
        raise BackupError(f"{archive}: holds no database; nothing was restored")
    return small


def _check_restored_database(path: Path, archive: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{archive}: the database fails integrity_check ({result})")


def _pepper_plan(
    settings: Settings, manifest: Manifest, pepper: bytes | None, force: bool
) -> Path | None:
    """Where the archived pepper goes (None: nowhere); refuses a restore whose old keys would
    all fail because a different pepper is configured."""
    if settings.secret_key:
        if manifest.pepper_check and manifest.pepper_check != _pepper_check(
            settings.secret_key.encode()
        ):
            raise BackupError(
                "MINIPOS_SECRET_KEY differs from the pepper the backup's API keys were made "
                "with: every old key would fail. Set it to the old value"
                + (f" (or unset it to use the archived {PEPPER})" if pepper else "")
            )
        return None  # the environment's pepper wins over any file
    if pepper is None:
        if manifest.pepper == "environment":
            raise BackupError(
                "the backup's keys were made with MINIPOS_SECRET_KEY, which is not in the "
                "archive: set MINIPOS_SECRET_KEY to that value, then restore"
            )
        return None
    target = Path(settings.secret_file).absolute()
    if target.exists() and target.read_bytes().strip() != pepper.strip() and not force:
        raise BackupError(
            f"{target} holds a different pepper; restore replaces it only with --force "
            "(keys made with it would stop working)"
        )
    return target


@contextlib.contextmanager
def _hold_server_lock(db_path: Path) -> Iterator[None]:
    """Take the lock a serving process holds (db/database.py), so no server runs on the file
    while it is replaced, and none starts meanwhile."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BackupError(
                f"{db_path} is being served (lock {lock_path}); stop the server, then restore"
            ) from exc
        yield


# --- shared ---------------------------------------------------------------------------------


def _sqlite_file(settings: Settings) -> Path:
    if not settings.database_url.startswith("sqlite:"):
        raise BackupError(POSTGRES_ADVICE)
    return sqlite_path(settings.database_url)


def _current_pepper(settings: Settings) -> tuple[bytes, PepperSource]:
    if settings.secret_key:
        return settings.secret_key.encode(), "environment"
    try:
        return Path(settings.secret_file).read_bytes(), "file"
    except FileNotFoundError:
        return b"", "missing"


def _pepper_check(pepper: bytes) -> str:
    # auth.service strips the file's newline before use; so must the check.
    return hmac.new(pepper.strip(), b"minipos backup pepper check", hashlib.sha256).hexdigest()


def _entry(value: Path | bytes) -> FileEntry:
    digest = hashlib.sha256()
    if isinstance(value, bytes):
        digest.update(value)
        return FileEntry(digest.hexdigest(), len(value))
    with value.open("rb") as handle:
        _copy_hashing(handle, None, digest)
    return FileEntry(digest.hexdigest(), value.stat().st_size)


def _copy_hashing(source: IO[bytes], target: IO[bytes] | None, digest: Any) -> None:
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        if target is not None:
            target.write(chunk)


@contextlib.contextmanager
def _open_archive(archive: Path) -> Iterator[tarfile.TarFile]:
    try:
        tar = tarfile.open(archive, mode="r:gz")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {archive}: {exc}") from exc
    with tar:
        try:
            yield tar
        except (OSError, tarfile.TarError, EOFError) as exc:
            raise BackupError(f"cannot read {archive}: {exc}") from exc


def _manifest(tar: tarfile.TarFile, archive: Path) -> Manifest:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isfile():
        raise BackupError(f"{archive}: no {MANIFEST} first; not a MiniPOS backup")
    handle = tar.extractfile(first)
    assert handle is not None
    try:
        manifest = msgspec.json.decode(handle.read(), type=Manifest)
    except msgspec.DecodeError as exc:
        raise BackupError(f"{archive}: unreadable {MANIFEST}: {exc}") from exc
    if manifest.format != FORMAT or manifest.version > FORMAT_VERSION:
        raise BackupError(
            f"{archive}: {manifest.format} version {manifest.version} is not one this "
            f"MiniPOS ({minipos.__version__}) reads"
        )
    return manifest


def _write_private(path: Path, content: bytes) -> None:
    """Replace ``path`` atomically with a 0600 file holding ``content``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp_name).replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    # The rename is durable only once the directory entry is.
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- commands (merged into ``minipos`` by cli.py) ---------------------------------------------

app = typer.Typer()


@app.command("backup")
def backup_command(
    file: Annotated[Path, typer.Argument(help="The archive to write (.tar.gz), created 0600.")],
) -> None:
    """Back up the SQLite database (online, while serving) and the API key pepper."""
    settings = settings_or_exit()
    try:
        manifest = backup(settings, file)
    except BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    except sqlite3.Error as exc:
        typer.echo(f"backup failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    size = manifest.files[DATABASE].size
    typer.echo(f"backed up {size} bytes at {manifest.schema_revision} to {file}", err=True)
    if manifest.pepper == "environment":
        typer.echo(
            "the API key pepper is MINIPOS_SECRET_KEY, which is not in the archive: keep it "
            "with the backup, or no old key works after a restore",
            err=True,
        )
    elif manifest.pepper == "missing":
        typer.echo(
            f"warning: no pepper file at {settings.secret_file}; keys made elsewhere will not "
            "work after a restore",
            err=True,
        )


@app.command("restore")
def restore_command(
    file: Annotated[Path, typer.Argument(help="An archive made by `minipos backup`.")],
    force: Annotated[
        bool, typer.Option(help="Replace an existing database and pepper file.")
    ] = False,
) -> None:
    """Restore a backup where MINIPOS_DATABASE_URL and MINIPOS_SECRET_FILE say (server stopped)."""
    settings = settings_or_exit()
    try:
        manifest = restore(settings, file, force=force)
    except BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    except (OSError, sqlite3.Error) as exc:
        typer.echo(f"restore failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"restored the backup of {manifest.created_at} (schema {manifest.schema_revision}); "
        "`minipos serve` migrates it if it is older than this version",
        err=True,
    )
