"""A response body's Content-Encoding undone in bounded steps, so the output can be capped as it grows.

A gzip bomb (a few hundred KB that expand to gigabytes) must never expand in memory: each step
asks zlib for at most what is still allowed, and the caller stops once the cap is passed.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator


class DecodeError(Exception):
    """A body whose encoding is unknown or whose compressed data is corrupt."""


class Decoder:
    """Undoes one Content-Encoding (identity, gzip, deflate) piece by piece."""

    def __init__(self, encoding: str) -> None:
        encoding = encoding.strip().lower()
        if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
            raise DecodeError(f"unsupported content encoding {encoding}")
        # deflate is zlib-wrapped by the standard; raw deflate, which some servers send, is tried on
        # the first failure.
        wbits = 16 + zlib.MAX_WBITS if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self.z = zlib.decompressobj(wbits) if encoding not in ("", "identity") else None
        self.encoding = encoding
        self.raw_fallback = encoding == "deflate"

    def feed(self, data: bytes, room: int) -> Iterator[bytes]:
        """Decoded pieces of `data`, stopping once more than `room` bytes came out."""
        if self.z is None:
            yield data
            return
        try:
            while data:
                out = self.z.decompress(data, room + 1)
                data = self.z.unconsumed_tail
                if self.z.eof and self.z.unused_data and self.encoding in ("gzip", "x-gzip"):
                    # A gzip body may hold several members one after another; each is its own stream.
                    data = self.z.unused_data + data
                    self.z = zlib.decompressobj(16 + zlib.MAX_WBITS)
                yield out
                room -= len(out)
                if room < 0 or (not out and not data):
                    return
        except zlib.error:
            if self.raw_fallback:
                self.raw_fallback = False
                self.z = zlib.decompressobj(-zlib.MAX_WBITS)
                yield from self.feed(data, room)
                return
            raise DecodeError(f"corrupt {self.encoding} body") from None
