"""The embedded broker: kombu's filesystem transport with one fix — a message file appears only when complete.

kombu's own `_put` creates `<time>_<uuid>.<queue>.msg` in the queue folder and writes the message afterwards; a
worker polling at that moment moves and reads an empty file, fails to decode it and stops ("Unrecoverable error:
JSONDecodeError"), leaving its tasks unfinished. Here the message is written under a name no consumer matches and
renamed into place (atomic within one folder on POSIX). Selected by CELERY_BROKER_TRANSPORT in settings.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.part")  # _get skips it: not "<queue>.msg"
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
