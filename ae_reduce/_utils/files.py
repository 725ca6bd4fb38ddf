"""Files written whole or not at all.

Every file the package writes goes to a temporary file beside its destination and is
renamed over it once complete, so that a failure while writing (a full disk, text that
cannot be encoded, an interrupt) leaves an existing file as it was instead of truncated.
"""

import contextlib
import errno
import os
import secrets
import stat

#: Characters of the destination's name kept in the temporary name, so that the
#: temporary name stays within the file system's limit on name length.
_NAME_CHARACTERS = 40


@contextlib.contextmanager
def replacing(path):
    """Yield a temporary path beside `path`, renamed to `path` when the block succeeds.

    The temporary file exists (empty) when the block starts, and ends in the same
    extension as `path`, so that writers which pick a format from the name pick the
    right one. If the block raises, the temporary file is removed and `path` is left
    untouched. A symbolic link at `path` is followed: the file it points to is
    replaced and the link is kept.

    Parameters
    ----------
    path : str or path-like
        The destination. Its folder must exist.

    Yields
    ------
    temporary : str
        Where the block writes the file's content.
    """
    target = os.path.realpath(os.fspath(path))
    folder, name = os.path.split(target)
    stem, suffix = os.path.splitext(name)
    stem, suffix = stem[:_NAME_CHARACTERS], suffix[:_NAME_CHARACTERS]
    while True:
        temporary = os.path.join(folder, f".{stem}.{secrets.token_hex(4)}.tmp{suffix}")
        try:
            # 0o666 lets the umask decide the permissions, as for any new file.
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except FileNotFoundError:
            # Named after the user's path, not the temporary one they never chose.
            raise FileNotFoundError(
                errno.ENOENT, f"the folder {folder!r} does not exist", os.fspath(path)
            ) from None
        os.close(descriptor)
        break
    try:
        yield temporary
        _keep_permissions(target, temporary)
        _flush_to_disk(temporary)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def write_bytes(path, data):
    """Write `data` to `path` through :func:`replacing`."""
    with replacing(path) as temporary, open(temporary, "wb") as handle:
        handle.write(data)


def write_text(path, text, encoding="utf-8"):
    """Write `text` to `path` through :func:`replacing`.

    The text is encoded before the temporary file is opened, so text that cannot be
    encoded leaves no file behind at all.
    """
    write_bytes(path, text.encode(encoding))


def _keep_permissions(target, temporary):
    # Replacing a file the user made readable by others should keep it so.
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return
    os.chmod(temporary, mode)


def _flush_to_disk(temporary):
    # Without this, a crash soon after the rename can leave an empty file on some
    # file systems, which is what writing to a temporary name is meant to avoid.
    descriptor = os.open(temporary, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
