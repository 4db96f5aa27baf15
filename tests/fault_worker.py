"""`python tests/fault_worker.py <celery args>`: a Celery worker whose PDF writes stop halfway.

WeasyPrint writes the first half of the PDF to its file, flushes it, touches $LAUNCHREADY_FAULT_MARKER and then
hangs, so a test can SIGKILL the worker while a half-written PDF is on disk (tests/test_faults.py)."""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import weasyprint  # noqa: E402

_write_pdf = weasyprint.Document.write_pdf


def write_half_then_hang(self, target=None, *args, **kwargs):
    data = _write_pdf(self, None, *args, **kwargs)
    if target is None:
        return data
    half = data[: len(data) // 2]
    if isinstance(target, (str, os.PathLike)):
        with open(target, "wb") as fh:
            fh.write(half)
    else:
        target.write(half)
        target.flush()
    Path(os.environ["LAUNCHREADY_FAULT_MARKER"]).write_text(str(len(data)))
    time.sleep(120)  # the test kills us long before this
    raise RuntimeError("fault worker was not killed")


weasyprint.Document.write_pdf = write_half_then_hang

if __name__ == "__main__":
    from celery.__main__ import main

    sys.argv[0] = "celery"
    sys.exit(main())
