"""Streaming encryption of files with a per-file data key (documents).

Each file gets its own random 256-bit data key; the key is stored in an encrypted model
field, i.e. wrapped by the field key (AES-GCM, bound to the document's row), so rotating
the field keys re-wraps data keys without touching the files, and erasing the row makes
the file unreadable even where a copy of the storage survives (crypto-shredding).

The file is cut into segments of ``SEGMENT`` bytes, each sealed with AES-256-GCM
(the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár, as in Tink's streaming
AEAD): the nonce is the segment counter plus a flag for the last segment, and the associated
data names the document, so segments cannot be reordered, dropped, truncated at the end or
moved to another document without failing authentication. Memory stays at one segment
whatever the size of the file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"CMD1"
SEGMENT = 64 * 1024
TAG = 16
KEY_BYTES = 32


class StreamDecryptionError(Exception):
    """A stored file failed authentication: tampered with, truncated, or not this document's."""


def new_data_key() -> bytes:
    return os.urandom(KEY_BYTES)


def _nonce(counter: int, last: bool) -> bytes:
    # 11 bytes counter, 1 byte last-segment flag: unique per segment under a key used for one file.
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _segments(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Re-cut arbitrary chunks into segments of SEGMENT bytes, marking the last one."""
    buffer = bytearray()
    pending: bytes | None = None
    for chunk in chunks:
        buffer.extend(chunk)
        while len(buffer) > SEGMENT:
            if pending is not None:
                yield pending, False
            pending = bytes(buffer[:SEGMENT])
            del buffer[:SEGMENT]
    if pending is not None:
        if buffer:
            yield pending, False
            yield bytes(buffer), True
        else:
            yield pending, True
        return
    yield bytes(buffer), True


def encrypt_stream(chunks: Iterable[bytes], *, key: bytes, context: str) -> Iterator[bytes]:
    """Ciphertext of the concatenated ``chunks``, as a stream of sealed segments."""
    cipher = AESGCM(key)
    aad = context.encode()
    yield MAGIC
    for counter, (segment, last) in enumerate(_segments(chunks)):
        yield cipher.encrypt(_nonce(counter, last), segment, aad)


def decrypt_stream(
    read: io.RawIOBase | io.BufferedIOBase | object, *, key: bytes, context: str
) -> Iterator[bytes]:
    """Plaintext segments of a stored file, read segment by segment from ``read`` (a file object)."""
    reader = read.read  # type: ignore[attr-defined,union-attr]
    cipher = AESGCM(key)
    aad = context.encode()
    if reader(len(MAGIC)) != MAGIC:
        raise StreamDecryptionError("Not an encrypted document.")
    counter = 0
    current = reader(SEGMENT + TAG)
    while True:
        following = reader(SEGMENT + TAG) if len(current) == SEGMENT + TAG else b""
        last = not following
        try:
            yield cipher.decrypt(_nonce(counter, last), current, aad)
        except InvalidTag:
            raise StreamDecryptionError(f"Segment {counter} failed authentication.") from None
        if last:
            return
        counter += 1
        current = following


def _fill(reader: DecryptingReader | EncryptingReader, target: bytearray | memoryview) -> int:
    """``readinto`` for a reader over a generator of byte strings (its ``_stream``/``_buffer``)."""
    while not reader._buffer:
        try:
            reader._buffer = next(reader._stream)
        except StopIteration:
            return 0
    n = min(len(target), len(reader._buffer))
    target[:n] = reader._buffer[:n]
    reader._buffer = reader._buffer[n:]
    return n


class SegmentWriter:
    """Push-style ``encrypt_stream``: write plaintext as it arrives, ciphertext goes to ``sink``.

    Same format as ``encrypt_stream`` (a full segment is held back until more data shows it
    is not the last), so ``decrypt_stream`` reads what this writes. For uploads arriving in
    pieces from the request body, where there is no iterable to hand to ``encrypt_stream``.
    """

    def __init__(self, sink: io.RawIOBase | io.BufferedIOBase | object, *, key: bytes, context: str) -> None:
        self._write = sink.write  # type: ignore[attr-defined,union-attr]
        self._cipher = AESGCM(key)
        self._aad = context.encode()
        self._buffer = bytearray()
        self._pending: bytes | None = None
        self._counter = 0
        self._write(MAGIC)

    def _seal(self, segment: bytes, last: bool) -> None:
        self._write(self._cipher.encrypt(_nonce(self._counter, last), segment, self._aad))
        self._counter += 1

    def write(self, data: bytes) -> None:
        self._buffer.extend(data)
        while len(self._buffer) > SEGMENT:
            if self._pending is not None:
                self._seal(self._pending, False)
            self._pending = bytes(self._buffer[:SEGMENT])
            del self._buffer[:SEGMENT]

    def close(self) -> None:
        """Seal the rest, marking the last segment (as ``_segments`` cuts it)."""
        if self._pending is not None:
            if self._buffer:
                self._seal(self._pending, False)
                self._seal(bytes(self._buffer), True)
            else:
                self._seal(self._pending, True)
        else:
            self._seal(bytes(self._buffer), True)
        self._buffer.clear()
        self._pending = None


class DecryptingReader(io.RawIOBase):
    """A read-only file object over the plaintext of a file ``encrypt_stream`` wrote to ``source``.

    Seeking is only back to the start (decryption starts over): enough for Django's
    ``File.chunks()`` and for reading a file's first bytes and then the whole of it.
    """

    def __init__(
        self, source: io.RawIOBase | io.BufferedIOBase | object, *, key: bytes, context: str
    ) -> None:
        self._source = source
        self._key, self._context = key, context
        self._restart()

    def _restart(self) -> None:
        self._source.seek(0)  # type: ignore[attr-defined,union-attr]
        self._stream = decrypt_stream(self._source, key=self._key, context=self._context)
        self._buffer = b""
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if (offset, whence) not in ((0, io.SEEK_SET), (0, io.SEEK_CUR)):
            raise io.UnsupportedOperation("an encrypted upload seeks only back to its start")
        if whence == io.SEEK_SET:
            self._restart()
        return self._position

    def tell(self) -> int:
        return self._position

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        n = _fill(self, target)
        self._position += n
        return n


class EncryptingReader(io.RawIOBase):
    """A read-only file object over the ciphertext of ``chunks``: storages pull it piece by piece."""

    def __init__(self, chunks: Iterable[bytes], *, key: bytes, context: str) -> None:
        self._stream = encrypt_stream(chunks, key=key, context=context)
        self._buffer = b""
        self.written = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        n = _fill(self, target)
        self.written += n
        return n


def ciphertext_size(plaintext_size: int) -> int:
    """Bytes stored for a file of ``plaintext_size`` bytes."""
    segments = max(1, -(-plaintext_size // SEGMENT))
    return len(MAGIC) + plaintext_size + segments * TAG


__all__ = [
    "SEGMENT",
    "DecryptingReader",
    "EncryptingReader",
    "SegmentWriter",
    "StreamDecryptionError",
    "ciphertext_size",
    "decrypt_stream",
    "encrypt_stream",
    "new_data_key",
]
