"""Writing a file or a folder so that no reader ever sees half of it.

Everything the plugin writes for later runs to read (converted annotations, the procedural
benchmarks' image folders, tables, pictures, metrics) goes through :func:`atomic_output`: the
content is written under a temporary name beside the target and renamed over it only once it is
complete. The temporary name carries the host and the process id of its writer, so that the
next write of the same target can tell a temporary left by a killed run (removed) from one that
a live process is still writing (left alone).
"""
import contextlib
import os
import os.path as osp
import re
import shutil
import socket
from typing import Iterator

_TMP_SUFFIX = '.tmp'


def _host() -> str:
    # only characters that cannot be confused with the separators of the temporary name
    return re.sub(r'[^A-Za-z0-9_]', '_', socket.gethostname()) or 'host'


def _temporary_name(out_path: str, directory: bool) -> str:
    base = osp.basename(out_path)
    ext = '' if directory else osp.splitext(base)[1]
    return f'.{base}.{_host()}-{os.getpid()}{_TMP_SUFFIX}{ext}'


def _process_is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale_temporaries(out_path: str, directory: bool = False) -> list:
    """Remove the temporaries of ``out_path`` that writers killed before finishing left behind.

    Only temporaries written on this host by processes that no longer run are removed: one of a
    live writer (another rank generating the same data) is left to it, and one from another host
    sharing the file system cannot be judged from here.

    Returns:
        list[str]: the paths removed.
    """
    out_dir = osp.dirname(osp.abspath(out_path))
    base = osp.basename(out_path)
    ext = '' if directory else osp.splitext(base)[1]
    pattern = re.compile(re.escape(f'.{base}.{_host()}-') + r'(\d+)' + re.escape(_TMP_SUFFIX + ext)
                         + '$')
    removed = []
    if not osp.isdir(out_dir):
        return removed
    for name in os.listdir(out_dir):
        match = pattern.match(name)
        if match is None or _process_is_running(int(match.group(1))):
            continue
        path = osp.join(out_dir, name)
        if osp.isdir(path) and not osp.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_output(out_path: str, directory: bool = False) -> Iterator[str]:
    """Yield a temporary path beside ``out_path`` to write to; rename it over ``out_path`` only
    when the block succeeds. A failed or interrupted write leaves the previous output (or none)
    in place, never a truncated one, and removes its temporary; one left by a killed writer is
    removed by the next write of the same output (:func:`remove_stale_temporaries`).

    Args:
        out_path (str): the file (or folder) to produce.
        directory (bool): the output is a folder: the temporary folder is created, filled by the
            block and renamed. If ``out_path`` appeared meanwhile (another process produced the
            same folder first), that copy is kept and this one dropped.

    The temporary name of a file keeps its extension (writers such as ``cv2.imwrite`` and
    ``mmengine.dump`` choose the format from it). It is made by name, not by ``mkstemp``, whose
    file would be private to its owner: the result gets the usual permissions. A file is flushed
    to disk before the rename, so a crash right after it cannot leave an empty file under the
    final name.
    """
    out_dir = osp.dirname(osp.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    remove_stale_temporaries(out_path, directory)
    tmp = osp.join(out_dir, _temporary_name(out_path, directory))
    if directory:
        os.makedirs(tmp)
    try:
        yield tmp
        if directory:
            try:
                os.rename(tmp, out_path)
            except OSError:
                if not osp.isdir(out_path):
                    raise
        else:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, out_path)
    finally:
        if osp.isdir(tmp) and not osp.islink(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif osp.lexists(tmp):
            os.remove(tmp)
