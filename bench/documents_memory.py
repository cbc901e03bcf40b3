"""Peak memory of a document upload and download (issue 19): streaming keeps it flat.

Encrypts a file of SIZE_MB (default 20) from disk into a FileSystemStorage through the
same path the service uses (``EncryptingReader`` → ``storage.save``), then decrypts it back
segment by segment (``decrypt_stream``), and reports the tracemalloc peak of each step.
First the request side: the upload handler (``casemgmt.uploads``) spools the body, in
64 KiB pieces as Django hands them over, into a temporary file that holds ciphertext only;
the service then reads it back through the decrypting view. The download is a
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

        from casemgmt.uploads import EncryptedTemporaryUploadedFile

        tracemalloc.start()
        started = time.perf_counter()
        spooled = EncryptedTemporaryUploadedFile("upload.pdf", "application/pdf", 0, None, {})
        with source.open("rb") as handle:
            while piece := handle.read(64 * 1024):  # as the request body arrives
                spooled.append(piece)
        spooled.complete(source.stat().st_size)
        spool_s = time.perf_counter() - started
        _, spool_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()

        started = time.perf_counter()
        chunks = spooled.chunks()  # what the service reads (64 KiB, decrypted)
        name = storage.save(
            "doc.bin", File(EncryptingReader(chunks, key=key, context="document|x"), name="doc.bin")
        )
        spooled.close()
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
        print(
            f"request spool (encrypted temp file): peak {spool_peak / 1024:.0f} KiB traced, {spool_s:.2f} s"
        )
        print(f"upload (encrypt + store): peak {upload_peak / 1024:.0f} KiB traced, {upload_s:.2f} s")
        print(f"download (read + decrypt): peak {download_peak / 1024:.0f} KiB traced, {download_s:.2f} s")


if __name__ == "__main__":
    main()
