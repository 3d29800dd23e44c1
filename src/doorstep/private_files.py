"""Files only Doorstep's own user can read (docs/security.md, "Data at rest").

The data directory holds the database, the key that signs every token and the demo's
password. Whatever the process's umask, Doorstep makes the directory 0700 and each of those
files 0600 when it creates them; SQLite then gives its `-wal` and `-shm` files the database
file's mode. What Doorstep finds already there it leaves as it is (an administrator may
have opened it to a backup user's group on purpose), but a file that other users can read
is logged as a warning with the command that closes it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# Permission bits of the group and of others.
OPEN_TO_OTHERS = 0o077


def make_private_dir(path: Path) -> None:
    """Create the directory 0700 (its missing parents with the usual modes); an existing
    one is left as it is."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=PRIVATE_DIR)
    except FileExistsError:  # made meanwhile by another process
        return
    path.chmod(PRIVATE_DIR)  # mkdir's mode goes through the umask; this is exact


def create_private_file(path: Path) -> bool:
    """Create the file empty and 0600 unless it exists; True if this call created it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, PRIVATE_FILE)  # the mode os.open gave went through the umask
    finally:
        os.close(fd)
    return True


def write_private_text(path: Path, text: str) -> None:
    """Write a secret to a file that no other user can read at any moment, not even
    before the first byte is in it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w") as file:
        os.fchmod(fd, PRIVATE_FILE)
        file.write(text)


def warn_if_readable_by_others(*paths: Path) -> list[Path]:
    """Log a warning for each existing file that the group or others may use; returns them."""
    found = []
    for path in paths:
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            continue
        if mode & OPEN_TO_OTHERS:
            found.append(path)
            log.warning(
                "%s holds private data but other users have access to it (mode %03o); "
                "close it with: chmod 600 %s",
                path,
                mode & 0o777,
                path,
            )
    return found
