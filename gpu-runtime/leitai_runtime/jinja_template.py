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
import weakref
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
        # per tokenizer: rendering the probe once is enough
        self._end_of_turn: weakref.WeakKeyDictionary[Tokenizer, tuple[int, ...]] = weakref.WeakKeyDictionary()

    def render(self, tokenizer: Tokenizer, messages: Sequence[Mapping[str, str]],
               add_generation_prompt: bool = True) -> str:
        """The prompt text transformers' apply_chat_template(tokenize=False) would give."""
        try:
            return self._template.render(
                messages=[dict(m) for m in messages], add_generation_prompt=add_generation_prompt,
                bos_token=tokenizer.id_to_piece(tokenizer.bos_id), eos_token=tokenizer.id_to_piece(tokenizer.eos_id),
            )
        except TemplateError:
            raise
        except jinja2.TemplateError as err:
            raise TemplateError(f"the chat template failed: {err}") from None

    def encode(self, tokenizer: Tokenizer, messages: Sequence[Mapping[str, str]]) -> list[int]:
        """Prompt ids: markup's special tokens as their ids, message text always as text."""
        literals: list[str] = []
        specials = _markup(tokenizer)[1]

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
        cached = self._end_of_turn.get(tokenizer)
        if cached is None:
            cached = self._end_of_turn[tokenizer] = self._find_end_of_turn(tokenizer)
        return cached

    def _find_end_of_turn(self, tokenizer: Tokenizer) -> tuple[int, ...]:
        answer = "\ue002"
        try:
            text = self.render(tokenizer, [{"role": "user", "content": "?"}, {"role": "assistant", "content": answer}],
                               add_generation_prompt=False)
        except TemplateError:
            return ()
        after = text.partition(answer)[2].lstrip(" ")
        tokens = _markup(tokenizer)[0]
        return next(((tokens[piece],) for piece in tokens if after.startswith(piece)), ())


@functools.lru_cache(maxsize=32)
def jinja_chat_template(source: str) -> JinjaChatTemplate:
    """One compiled template per source: a request naming one again reuses it (and its end of turn)."""
    return JinjaChatTemplate(source)


def _encode_markup(tokenizer: Tokenizer, text: str) -> list[int]:
    if not text:
        return []
    if isinstance(tokenizer, HFTokenizer):
        return tokenizer.encode_special(text)
    # SentencePiece has no special-token parsing: split at its control pieces (<s>, </s>) by hand
    ids: list[int] = []
    pos = 0
    tokens, pattern = _markup(tokenizer)
    for match in pattern.finditer(text) if pattern else ():
        if match.start() > pos:
            ids += tokenizer.encode(text[pos:match.start()])
        ids.append(tokens[match.group(0)])
        pos = match.end()
    if pos < len(text):
        ids += tokenizer.encode(text[pos:])
    return ids


_Markup = tuple[dict[str, int], re.Pattern[str] | None]
_MARKUP: weakref.WeakKeyDictionary[Tokenizer, _Markup] = weakref.WeakKeyDictionary()


def _markup(tokenizer: Tokenizer) -> _Markup:
    """The tokenizer's special tokens (text → id, longest first) and one pattern matching any of them.

    Built once per tokenizer: every chat request searches its messages with the pattern.
    """
    cached = _MARKUP.get(tokenizer)
    if cached is None:
        cached = _MARKUP[tokenizer] = _build_markup(tokenizer)
    return cached


def _build_markup(tokenizer: Tokenizer) -> _Markup:
    if isinstance(tokenizer, HFTokenizer):
        tokens = tokenizer.added_tokens()
    else:
        tokens = {tokenizer.id_to_piece(i): i for i in (tokenizer.bos_id, tokenizer.eos_id)}
    tokens = {text: tokens[text] for text in sorted(tokens, key=len, reverse=True) if text}
    pattern = re.compile("|".join(re.escape(text) for text in tokens)) if tokens else None
    return tokens, pattern
