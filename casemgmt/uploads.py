"""Uploads larger than Django keeps in memory never touch the disk as plaintext.

Django streams a large upload (above ``FILE_UPLOAD_MAX_MEMORY_SIZE``, 2.5 MB) into a
temporary file before the view sees it: for a scanned consent form or a residence permit
that would be personal data in clear in ``/tmp`` (and in its backups, swap or a crash
dump), however well the stored document is encrypted afterwards. This handler writes the
temporary file already encrypted, with a key that exists only in the process's memory for
the duration of the request; the view reads the plaintext back through a decrypting file
object. Smaller uploads stay in memory (Django's ``MemoryFileUploadHandler`` first).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from privacy.streaming import DecryptingReader, SegmentWriter, new_data_key

CONTEXT = "upload"


class EncryptedTemporaryUploadedFile(UploadedFile):
    """An upload whose temporary file holds only ciphertext under a per-request key."""

    def __init__(self, name: str, content_type: str, size: int, charset: str | None, extra: Any) -> None:
        self._key = new_data_key()
        # Closed (and so deleted) in close(), at the end of the request, as Django's own.
        self._encrypted = tempfile.NamedTemporaryFile(  # noqa: SIM115
            suffix=".upload.enc", dir=settings.FILE_UPLOAD_TEMP_DIR
        )
        self._writer: SegmentWriter | None = SegmentWriter(self._encrypted, key=self._key, context=CONTEXT)
        super().__init__(None, name, content_type, size, charset, extra)

    def append(self, data: bytes) -> None:
        if self._writer is None:
            raise ValueError("The upload is complete.")
        self._writer.write(data)

    def complete(self, size: int) -> None:
        """Seal the last segment and open the plaintext view the view code reads."""
        if self._writer is None:
            raise ValueError("The upload is complete.")
        self._writer.close()
        self._writer = None
        self._encrypted.flush()
        self.file = DecryptingReader(self._encrypted, key=self._key, context=CONTEXT)  # type: ignore[assignment]
        self.size = size

    def temporary_file_path(self) -> str:
        """The ciphertext's path (never plaintext): what a caller moving the file would get."""
        return self._encrypted.name

    def close(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._encrypted.close()  # a NamedTemporaryFile: closing deletes it


class EncryptedTemporaryFileUploadHandler(FileUploadHandler):
    """``TemporaryFileUploadHandler``, with the temporary file encrypted (see the module)."""

    file: EncryptedTemporaryUploadedFile

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.file = EncryptedTemporaryUploadedFile(
            self.file_name or "upload", self.content_type or "", 0, self.charset, self.content_type_extra
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.file.append(raw_data)
        return None

    def file_complete(self, file_size: int) -> EncryptedTemporaryUploadedFile:
        self.file.complete(file_size)
        return self.file

    def upload_interrupted(self) -> None:
        if hasattr(self, "file"):
            path = self.file.temporary_file_path()
            self.file.close()
            if os.path.exists(path):
                os.remove(path)
