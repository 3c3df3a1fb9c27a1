"""A checkpoint's own chat template (Jinja), rendered the way transformers renders it.

transformers compiles `chat_template` in jinja2's immutable sandbox (trim_blocks,
lstrip_blocks, the loopcontrols extension, a `tojson` filter and `raise_exception` /
`strftime_now` globals) and tokenizes the rendered text with special tokens parsed. This
module does the same, except that a special token *written in a message* stays text: each
occurrence is swapped for a private placeholder before rendering and spelled out with
ordinary pieces afterwards, so a user cannot close a turn by typing "<|im_end|>".
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

from leitai_runtime.hf_tokenizer import HFTokenizer
from leitai_runtime.tokenizer import Tokenizer

_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")  # private-use characters: no template touches them


class TemplateError(ValueError):
    """The template does not compile or refuses the conversation (its raise_exception)."""


def _raise_exception(message: str) -> None:
    raise TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.datetime.now().strftime(fmt)


def _tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None,
            separators: Any = None, sort_keys: bool = False) -> str:
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


@functools.lru_cache(maxsize=32)
def _compiled(source: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    try:
        return env.from_string(source)
    except jinja2.TemplateError as err:
        raise TemplateError(f"the chat template does not compile: {err}") from None


class JinjaChatTemplate:
    def __init__(self, source: str) -> None:
        if not source.strip():
            raise TemplateError("the chat template is empty")
        self.source = source
        self._template = _compiled(source)
        self._end_of_turn: dict[int, tuple[int, ...]] = {}  # by id(tokenizer): rendering it once is enough

    def render(self, tokenizer: Tokenizer, messages: Sequence[Mapping[str, str]],
               add_generation_prompt: bool = True) -> str:
        """The prompt text transformers' apply_chat_template(tokenize=False) would give."""
        try:
            return self._template.render(
                messages=[dict(m) for m in messages], add_generation_prompt=add_generation_prompt,
                bos_token=_piece(tokenizer, tokenizer.bos_id), eos_token=_piece(tokenizer, tokenizer.eos_id),
            )
        except TemplateError:
            raise
        except jinja2.TemplateError as err:
            raise TemplateError(f"the chat template failed: {err}") from None

    def encode(self, tokenizer: Tokenizer, messages: Sequence[Mapping[str, str]]) -> list[int]:
        """Prompt ids: markup's special tokens as their ids, message text always as text."""
        literals: list[str] = []
        specials = _special_strings(tokenizer)

        def hide(text: str) -> str:
            if not specials or not specials.search(text):
                return text

            def swap(match: re.Match[str]) -> str:
                literals.append(match.group(0))
                return f"\ue000{len(literals) - 1}\ue001"
            return specials.sub(swap, text)

        safe = [{**m, "content": hide(m["content"])} for m in messages]
        rendered = self.render(tokenizer, safe)
        ids: list[int] = []
        pos = 0
        for match in _PLACEHOLDER.finditer(rendered):
            ids += _encode_markup(tokenizer, rendered[pos:match.start()])
            ids += tokenizer.encode(literals[int(match.group(1))])
            pos = match.end()
        return ids + _encode_markup(tokenizer, rendered[pos:])

    def end_of_turn_ids(self, tokenizer: Tokenizer) -> tuple[int, ...]:
        """The special token the template writes right after an assistant's answer (e.g. <|im_end|>).

        Found by rendering a two-turn chat and reading what follows the answer, so any
        template's own end-of-turn marker stops generation, not just the model's EOS.
        """
        cached = self._end_of_turn.get(id(tokenizer))
        if cached is None:
            cached = self._end_of_turn[id(tokenizer)] = self._find_end_of_turn(tokenizer)
        return cached

    def _find_end_of_turn(self, tokenizer: Tokenizer) -> tuple[int, ...]:
        answer = "\ue002"
        try:
            text = self.render(tokenizer, [{"role": "user", "content": "?"}, {"role": "assistant", "content": answer}],
                               add_generation_prompt=False)
        except TemplateError:
            return ()
        after = text.partition(answer)[2]
        for piece in _added_tokens(tokenizer):
            if after.lstrip(" ").startswith(piece):
                token_id = _piece_id(tokenizer, piece)
                return (token_id,) if token_id is not None else ()
        return ()


def _encode_markup(tokenizer: Tokenizer, text: str) -> list[int]:
    if not text:
        return []
    if isinstance(tokenizer, HFTokenizer):
        return tokenizer.encode_special(text)
    return _encode_markup_sentencepiece(tokenizer, text)


def _encode_markup_sentencepiece(tokenizer: Tokenizer, text: str) -> list[int]:
    """SentencePiece has no special-token parsing: split at control pieces (<s>, </s>) by hand."""
    controls = {tokenizer.id_to_piece(tokenizer.bos_id): tokenizer.bos_id,
                tokenizer.id_to_piece(tokenizer.eos_id): tokenizer.eos_id}
    pattern = re.compile("|".join(re.escape(c) for c in sorted(controls, key=len, reverse=True)))
    ids: list[int] = []
    pos = 0
    for match in pattern.finditer(text):
        if match.start() > pos:
            ids += tokenizer.encode(text[pos:match.start()])
        ids.append(controls[match.group(0)])
        pos = match.end()
    if pos < len(text):
        ids += tokenizer.encode(text[pos:])
    return ids


def _added_tokens(tokenizer: Tokenizer) -> list[str]:
    if isinstance(tokenizer, HFTokenizer):
        return tokenizer.special_tokens()
    return sorted({tokenizer.id_to_piece(tokenizer.bos_id), tokenizer.id_to_piece(tokenizer.eos_id)},
                  key=len, reverse=True)


def _special_strings(tokenizer: Tokenizer) -> re.Pattern[str] | None:
    pieces = [p for p in _added_tokens(tokenizer) if p]
    return re.compile("|".join(re.escape(p) for p in pieces)) if pieces else None


def _piece(tokenizer: Tokenizer, token_id: int) -> str:
    return tokenizer.id_to_piece(token_id)


def _piece_id(tokenizer: Tokenizer, piece: str) -> int | None:
    if isinstance(tokenizer, HFTokenizer):
        return tokenizer.piece_to_id(piece)
    for token_id in (tokenizer.bos_id, tokenizer.eos_id):
        if tokenizer.id_to_piece(token_id) == piece:
            return token_id
    return None
