"""Peak memory of a document upload and download (issue 19): streaming keeps it flat.

Encrypts a file of SIZE_MB (default 20) from disk into a FileSystemStorage through the
same path the service uses (``EncryptingReader`` → ``storage.save``), then decrypts it back
segment by segment (``decrypt_stream``), and reports the tracemalloc peak of each step.
The HTTP layer is left out: Django's upload handlers spool files above
FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) to a temporary file, and the download is a
StreamingHttpResponse over the same generator.

    .venv/bin/python bench/documents_memory.py [SIZE_MB]
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from django.core.files.base import File
from django.core.files.storage import FileSystemStorage

from privacy.streaming import EncryptingReader, decrypt_stream, new_data_key


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "upload.pdf"
        digest = hashlib.sha256()
        with source.open("wb") as out:
            out.write(b"%PDF-1.7\n")
            digest.update(b"%PDF-1.7\n")
            for _ in range(size_mb):
                block = os.urandom(1024 * 1024)
                out.write(block)
                digest.update(block)
        storage = FileSystemStorage(location=str(Path(tmp) / "store"))
        key = new_data_key()

        tracemalloc.start()
        started = time.perf_counter()
        with source.open("rb") as handle:
            chunks = File(handle).chunks()  # what an uploaded file yields (64 KiB)
            name = storage.save(
                "doc.bin", File(EncryptingReader(chunks, key=key, context="document|x"), name="doc.bin")
            )
        upload_s = time.perf_counter() - started
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()

        started = time.perf_counter()
        check = hashlib.sha256()
        with storage.open(name, "rb") as handle:
            for segment in decrypt_stream(handle, key=key, context="document|x"):
                check.update(segment)
        download_s = time.perf_counter() - started
        _, download_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        assert check.digest() == digest.digest(), "round trip changed the file"
        stored = storage.size(name)
        print(f"file {source.stat().st_size / 2**20:.1f} MiB, stored {stored / 2**20:.1f} MiB")
        print(f"upload (encrypt + store): peak {upload_peak / 1024:.0f} KiB traced, {upload_s:.2f} s")
        print(f"download (read + decrypt): peak {download_peak / 1024:.0f} KiB traced, {download_s:.2f} s")


if __name__ == "__main__":
    main()
