import contextlib
import os
import os.path as osp
from typing import Iterator


@contextlib.contextmanager
def atomic_output(out_file: str) -> Iterator[str]:
    """Yield a temporary path beside ``out_file`` to write to; rename it over ``out_file`` only
    when the block succeeds. A reader never sees half a file, and a failed or interrupted write
    leaves the previous file (or none) in place, never a truncated one.

    The temporary name keeps the extension (writers such as ``cv2.imwrite`` choose the format
    from it) and is named by process, not made by ``mkstemp``, whose file would be private to
    its owner: the result gets the usual permissions.
    """
    out_dir = osp.dirname(osp.abspath(out_file))
    os.makedirs(out_dir, exist_ok=True)
    tmp = osp.join(out_dir, f'.{osp.basename(out_file)}.{os.getpid()}.tmp'
                   f'{osp.splitext(out_file)[1]}')
    try:
        yield tmp
        os.replace(tmp, out_file)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
