"""Questions of the arena's demo bank (prisma/seed-data/questions.ts), for real-model tests and benchmarks."""

from __future__ import annotations

import re
from pathlib import Path

BANK = Path(__file__).resolve().parents[2] / "prisma" / "seed-data" / "questions.ts"
_QUESTION = re.compile(r'language: "(zh|en)", text: "((?:[^"\\]|\\.)*)"')


def bank_questions(count: int = 20) -> list[str]:
    """`count` questions, half Chinese and half English, spread evenly over the bank's categories."""
    questions = _QUESTION.findall(BANK.read_text(encoding="utf-8"))
    chosen: list[str] = []
    for language in ("zh", "en"):
        texts = [text for lang, text in questions if lang == language]
        if len(texts) < count // 2:
            raise ValueError(f"the bank has only {len(texts)} {language} questions")
        chosen += texts[:: len(texts) // (count // 2)][: count // 2]
    return chosen
