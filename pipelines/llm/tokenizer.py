"""Byte-level tokenizer: one token per UTF-8 byte plus an end-of-document token.

Byte-level needs no training, never meets an unknown symbol, and makes the
uniform baseline simple (perplexity = vocabulary size).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

BYTE_VOCAB = 256


@dataclass(frozen=True)
class ByteTokenizer:
    """Bytes 0-255 are tokens 0-255; `eos_id` (256) ends every document."""

    eos_id: int = BYTE_VOCAB

    @property
    def vocab_size(self) -> int:
        return BYTE_VOCAB + 1

    def encode(self, text: str, eos: bool = True) -> np.ndarray:
        """Token ids of `text` (uint16), with a trailing end-of-document token when `eos`."""
        ids = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.uint16)
        if eos:
            ids = np.append(ids, np.uint16(self.eos_id))
        return ids

    def decode(self, ids: list[int] | np.ndarray) -> str:
        """Text of `ids`; the end token becomes a newline, invalid UTF-8 a replacement mark."""
        data = bytes(i if i < BYTE_VOCAB else 0x0A for i in (int(x) for x in ids))
        return data.decode("utf-8", errors="replace")

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "byte-level",
            "vocab_size": self.vocab_size,
            "special_tokens": {"<|endoftext|>": self.eos_id},
            "encoding": "utf-8",
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ByteTokenizer:
        if data.get("type") != "byte-level":
            raise ValueError(f"unsupported tokenizer type {data.get('type')!r}")
        return cls(eos_id=int(data["special_tokens"]["<|endoftext|>"]))
