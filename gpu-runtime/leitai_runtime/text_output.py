"""Incremental output text with stop strings: text is held back while it could still turn
out to be the start of a stop string, and cut just before a stop string once one appears."""

from __future__ import annotations

from collections.abc import Sequence

from .tokenizer import Tokenizer


class TextStream:
    def __init__(self, tokenizer: Tokenizer, prompt_ids: Sequence[int], stop: Sequence[str]) -> None:
        self._detok = tokenizer.stream()
        self._stop = tuple(stop)
        self.text = ""
        self._emitted = 0
        self._stopped = False  # a stop string was reached: the text ends before it

    def _held_back(self) -> int:
        """Length of the longest tail of the text that is a proper prefix of a stop string."""
        best = 0
        for s in self._stop:
            for k in range(min(len(s) - 1, len(self.text)), best, -1):
                if self.text.endswith(s[:k]):
                    best = k
                    break
        return best

    def _advance(self, final: bool) -> tuple[str, bool]:
        hits = [i for i in (self.text.find(s, max(0, self._emitted)) for s in self._stop) if i >= 0]
        if hits:
            cut = min(hits)
            self.text = self.text[:cut]
            new, self._emitted = self.text[self._emitted:], cut
            self._stopped = True
            return new, True
        end = len(self.text) if final else len(self.text) - self._held_back()
        new, self._emitted = self.text[self._emitted:end], max(self._emitted, end)
        return new, False

    def push(self, token_id: int) -> tuple[str, bool]:
        """Add a generated token: (text safe to emit now, whether a stop string was reached)."""
        self.text += self._detok.push(token_id)
        return self._advance(final=False)

    def finish(self) -> str:
        """The rest of the text, whatever ended the generation (an EOS or stop token, the length
        limit, an abort): what was held back as a possible start of a stop string, and any bytes
        still held (whole characters, or U+FFFD as decoding gives). Nothing after a stop string."""
        if self._stopped:
            return ""
        self.text += self._detok.flush()
        return self._advance(final=True)[0]
