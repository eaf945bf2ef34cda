"""Replacing a folder by a fully written one, so that a reader never finds it missing or half written."""

import ctypes
import errno
import os
import shutil
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def staging_folder(target: Path, purpose: str) -> Path:
    """An empty hidden folder beside `target` (same file system, so it can be renamed into place)."""
    staging = target.parent / f".{target.name}.{purpose}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2 RENAME_EXCHANGE); False where that is unavailable."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False  # this file system or kernel cannot exchange
    raise OSError(code, os.strerror(code), str(b))


def replace_folder(staging: Path, target: Path, keep_other_files: bool = True) -> Path:
    """Put the complete folder `staging` in place of `target`.

    Where the system allows it the two are exchanged in one step: `target` always holds either the old or
    the new folder, whatever moment a crash strikes. keep_other_files: entries of the old folder that the new
    one lacks (a training run's history, plots, checkpoint) move into the new one.
    """
    if not target.exists():
        staging.rename(target)
        return target
    if exchange(staging, target):
        old = staging
    else:  # no atomic exchange here: a rename pair, with a moment in which `target` is absent
        old = target.parent / f".{target.name}.old-{os.getpid()}"
        target.rename(old)
        staging.rename(target)
    if keep_other_files:
        for entry in old.iterdir():
            if not (target / entry.name).exists():
                entry.rename(target / entry.name)
    shutil.rmtree(old, ignore_errors=True)
    return target
