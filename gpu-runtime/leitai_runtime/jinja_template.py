"""A checkpoint's own chat template (Jinja), rendered the way transformers renders it.

transformers compiles `chat_template` in jinja2's immutable sandbox (trim_blocks,
lstrip_blocks, the loopcontrols extension, a `tojson` filter and `raise_exception` /
`strftime_now` globals) and tokenizes the rendered text with special tokens parsed. This
module does the same, except that a special token *written in a message* stays text: each
occurrence is swapped for a private placeholder before rendering and spelled out with
ordinary pieces afterwards, so a user cannot close a turn by typing "<|im_end|>".

A request may bring its own template, so a render runs on a budget: loop iterations in total
(range() lengths included), a wall-clock deadline checked as it iterates and calls, and the size
of the text and of any string or list it builds. Going over, or any other failure, is a
TemplateError: the request's fault, never the server's.
"""

from __future__ import annotations

import contextvars
import datetime
import functools
import json
import re
import string
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer

from leitai_runtime.hf_tokenizer import HFTokenizer
from leitai_runtime.tokenizer import Tokenizer

_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")  # private-use characters: no template touches them

# Real chat templates loop over messages and tools: thousands of iterations at most, a few ms.
MAX_LOOP_ITERATIONS = 200_000
MAX_RENDER_SECONDS = 1.0  # CPU time of the render's thread: a busy machine does not count against it
MAX_RENDER_WALL_SECONDS = 5.0  # a backstop, for a render starved of the GIL by its neighbours
MAX_OUTPUT_CHARS = 4_000_000  # also the longest string a template may build
MAX_BUILT_CHARS = 16_000_000  # everything a render builds, together: many fresh strings add up
MAX_ITEMS = 100_000  # the longest list (or range) a template may build
MAX_TEMPLATE_CHARS = 64 * 1024  # a request's own template: compiling is not budgeted, so keep it small
_MAX_INT_BITS = 4096  # 10 ** 10 ** 8 would hold the thread for hours in one C call
_MAX_JSON_INDENT = 64
# printf-style conversions, `%(name)-08.3f`, and the `{...:spec}` of str.format
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\d+|\*)?(?:\.(\d+|\*))?[a-zA-Z%]")
_FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d+)?[,_]?(?:\.(\d+))?[a-zA-Z%]?")
_FORMATTER = string.Formatter()


class TemplateError(ValueError):
    """The template does not compile or refuses the conversation (its raise_exception)."""


def _raise_exception(message: str) -> None:
    raise TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.datetime.now().strftime(fmt)


class _Budget:
    """What one render may still spend."""

    def __init__(self) -> None:
        self.iterations = 0
        self.built = 0
        self.cpu_deadline = time.thread_time() + MAX_RENDER_SECONDS
        self.wall_deadline = time.monotonic() + MAX_RENDER_WALL_SECONDS

    def spend(self, iterations: int) -> None:
        self.iterations += iterations
        if self.iterations > MAX_LOOP_ITERATIONS:
            raise TemplateError(f"the chat template runs more than {MAX_LOOP_ITERATIONS} loop iterations")
        self.check_time()

    def check_time(self) -> None:
        if time.thread_time() > self.cpu_deadline:
            raise TemplateError(f"the chat template takes more than {MAX_RENDER_SECONDS:g} s of CPU to render")
        if time.monotonic() > self.wall_deadline:
            raise TemplateError(f"the chat template takes more than {MAX_RENDER_WALL_SECONDS:g} s to render")


# The render in progress in this thread; None while compiling (constant folding then just fails).
_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("template_budget", default=None)


def _budget() -> _Budget:
    budget = _BUDGET.get()
    if budget is None:
        raise TemplateError("not inside a render")
    return budget


def _spend(iterations: int) -> None:
    _budget().spend(iterations)


def _check_time() -> None:
    _budget().check_time()


def _allow(length: int, what: str = "a string") -> None:
    """Refuse, before it is built, a value of `length` characters (or items)."""
    if length > MAX_OUTPUT_CHARS:
        raise TemplateError(f"the chat template builds {what} longer than {MAX_OUTPUT_CHARS}")
    budget = _BUDGET.get()
    if budget is not None and budget.built + length > MAX_BUILT_CHARS:
        raise TemplateError(f"the chat template builds more than {MAX_BUILT_CHARS} characters in all")


def _allow_items(count: int) -> None:
    if count > MAX_ITEMS:
        raise TemplateError(f"the chat template builds a list longer than {MAX_ITEMS} items")


def _charge(value: Any) -> Any:
    """A value just built: its size counts against the render's total."""
    if isinstance(value, str | bytes):
        size = len(value)
    elif isinstance(value, list | tuple | range):
        _allow_items(len(value))
        size = len(value)
    else:
        return value
    _allow(size)
    budget = _BUDGET.get()
    if budget is not None:
        budget.built += size
    return value


def _text_size(value: Any, limit: int = MAX_OUTPUT_CHARS) -> int:
    """About len(str(value)), found without building it (a list repeating one long string would
    be terabytes); stops counting once past `limit`."""
    size, stack = 0, [value]
    while stack and size <= limit:
        item = stack.pop()
        if isinstance(item, str | bytes):
            size += len(item) + 4
        elif isinstance(item, dict):
            size += 2 + 2 * len(item)
            stack += item.keys()
            stack += item.values()
        elif isinstance(item, list | tuple | set | frozenset):
            size += 2 + 2 * len(item)
            stack += item
        elif isinstance(item, int) and not isinstance(item, bool):
            size += item.bit_length() // 3 + 2
        else:
            size += 32
    return size


def _allow_text(*values: Any) -> None:
    """Refuse turning `values` into text when that text would be too long."""
    _allow(sum(_text_size(v) for v in values))


def _allow_width(width: Any) -> None:
    if isinstance(width, int) and width > 0:
        _allow(width)


def _check_printf(fmt: Any, args: Any) -> None:
    """`fmt % args`: each conversion's width and precision, and the text of the arguments."""
    if not isinstance(fmt, str | bytes):
        return
    if isinstance(fmt, bytes):
        fmt = fmt.decode("latin-1")
    size = len(fmt)
    for match in _PRINTF.finditer(fmt):
        for number in match.groups():
            if number == "*":  # the width is one of the arguments
                values = args if isinstance(args, tuple) else (args,)
                for value in values:
                    _allow_width(value)
                    size += value if isinstance(value, int) and value > 0 else 0
            elif number:
                _allow(int(number[:10]))  # digits enough to pass any limit
                size += int(number[:10])
    _allow(size + _text_size(args))


def _check_str_format(fmt: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """`fmt.format(...)` / format_map: each field's spec, and each field's text (a field may repeat)."""
    size, auto, everything = 0, 0, None
    try:
        fields = list(_FORMATTER.parse(fmt))
    except ValueError:
        return  # str.format raises the same error, having built nothing
    _allow_items(len(fields))
    for literal, name, spec, _ in fields:
        size += len(literal)
        if name is None:
            continue
        spec = spec or ""
        if "{" in spec:  # a nested field: its width comes from the arguments
            for value in (*args, *kwargs.values()):
                _allow_width(value)
        match = _FORMAT_SPEC.fullmatch(spec)
        for number in match.groups() if match else ():
            if number:
                _allow(int(number[:10]))
                size += int(number[:10])
        if name == "":
            name, auto = str(auto), auto + 1
        if name.isdigit() and int(name) < len(args):
            size += _text_size(args[int(name)])
        elif name in kwargs:
            size += _text_size(kwargs[name])
        else:  # attribute or index lookups: at most the text of everything passed
            if everything is None:
                everything = _text_size((*args, *kwargs.values()))
            size += everything
        _allow(size)


def _check_replace(text: Any, old: Any, new: Any) -> None:
    """Bound what str.replace would build before it does ("".replace inserts at every position)."""
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        _allow(len(text) + (len(text) // len(old) if old else len(text) + 1) * len(new))


def _joined(sep: Any, items: Iterable[Any]) -> list[Any]:
    """The items of a join, counted, with the joined length refused before it is built."""
    if isinstance(items, Sized):
        _spend(len(items))
        values = list(items)
    else:
        values = list(_counted(items))
    _allow_items(len(values))
    sep_len = len(sep) if isinstance(sep, str | bytes) else _text_size(sep)
    _allow(sum(_text_size(v) for v in values) + sep_len * max(len(values) - 1, 0))
    return values


def _range(*args: int) -> range:
    """range(), refused when longer than a list may be; its loop iterations are counted as it iterates."""
    r = range(*args)
    try:
        length = len(r)
    except OverflowError:
        raise TemplateError("the chat template asks for a range too large") from None
    if length > MAX_ITEMS:
        raise TemplateError(f"the chat template asks for a range too large ({length} > {MAX_ITEMS} items)")
    return r


def _counted(iterable: Iterable[Any]) -> Iterator[Any]:
    """Every for loop (and iterating filter) goes through this: each item spends one of the budget."""
    budget = _budget()
    for item in iterable:
        budget.spend(1)
        yield item


def _text(value: Any) -> Any:
    """An operand of `~` or an output, before it is turned into text."""
    if not isinstance(value, str):
        _allow_text(value)
    return value


def _sized(value: Any) -> Any:
    """The result of `~` (string concatenation)."""
    return _charge(value)


# Filters that walk their input: a list's items are charged as loop iterations, anything lazier
# (a generator from select or map) is counted item by item.
_ITERATING = frozenset({"batch", "dictsort", "groupby", "join", "list", "map", "max", "min", "reject",
                        "rejectattr", "reverse", "select", "selectattr", "slice", "sort", "sum", "unique"})
# Filters that never turn their input into text.
_NOT_TEXT = _ITERATING | {"abs", "attr", "count", "d", "default", "first", "float", "int", "items", "last",
                          "length", "random", "round", "_counted", "_sized", "_text"}


def _guarded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    takes_env = getattr(func, "jinja_pass_arg", None) is not None  # context, eval context or environment

    @functools.wraps(func)  # keeps jinja's pass_context / pass_eval_context marks
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _check_time()
        first = 1 if takes_env else 0
        if len(args) <= first:
            return func(*args, **kwargs)
        value, rest = args[first], list(args[first + 1:])
        params = {**dict(zip(_PARAMS.get(name, ()), rest, strict=False)), **kwargs}
        if name in _ITERATING and name != "join" and not isinstance(value, str):  # join counts its own
            if isinstance(value, Sized):
                _spend(len(value))
            else:
                value = _counted(value)
        if name not in _NOT_TEXT and not isinstance(value, str):
            _allow_text(value)
        if name == "join":
            value = _joined(params.get("d", ""), value)
        elif name == "format":
            _check_printf(value, tuple(rest) if not kwargs else kwargs)
        elif name == "replace" and len(rest) >= 2:
            _check_replace(value, rest[0], rest[1])
        elif name in ("center", "truncate"):
            _allow_width(params.get("width", params.get("length")))
        elif name == "indent" and isinstance(value, str):
            width = params.get("width", 4)
            pad = len(width) if isinstance(width, str) else max(width, 0) if isinstance(width, int) else 0
            _allow(len(value) + (value.count("\n") + 1) * pad)
        elif name == "wordwrap" and isinstance(value, str):
            wrap = params.get("wrapstring") or "\n"
            _allow(len(value) * (1 + len(wrap)) if isinstance(wrap, str) else MAX_OUTPUT_CHARS + 1)
        elif name in ("batch", "slice"):
            count = params.get("linecount", params.get("slices"))
            if isinstance(count, int):
                _allow_items(count)
        elif name == "tojson":
            indent = params.get("indent")
            if isinstance(indent, int | str) and (len(indent) if isinstance(indent, str) else indent) > _MAX_JSON_INDENT:
                raise TemplateError(f"the chat template asks tojson for an indent over {_MAX_JSON_INDENT}")
        return _charge(func(*args[:first], value, *rest, **kwargs))
    return guarded


# Positional parameters after the value, for the filters whose sizes are checked.
_PARAMS = {"join": ("d", "attribute"), "center": ("width",), "truncate": ("length",), "indent": ("width",),
           "wordwrap": ("width", "break_long_words", "wrapstring"), "batch": ("linecount",),
           "slice": ("slices",), "tojson": ("ensure_ascii", "indent")}


class _Budgeted(NodeTransformer):
    """Rewrites a parsed template so that loops, `~` and output go through the budget."""

    def visit_For(self, node: nodes.For) -> nodes.For:
        node = self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, "_counted", [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Filter:
        node = self.generic_visit(node)
        node.nodes = [nodes.Filter(n, "_text", [], [], None, None, lineno=node.lineno) for n in node.nodes]
        return nodes.Filter(node, "_sized", [], [], None, None, lineno=node.lineno)


def _finalize(value: Any) -> Any:
    """Every `{{ ... }}` value, before the template turns it into text."""
    return _text(value)


class _BudgetedSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with calls and the operators that can build huge values checked.

    An intercepted operator is also never folded into a constant at compile time."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        _check_time()
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | bytes | list | tuple) and isinstance(times, int):
                    _allow((len(seq) if isinstance(seq, str | bytes) else 0) * max(times, 0))
                    if isinstance(seq, list | tuple):
                        _allow_items(len(seq) * max(times, 0))
            if (isinstance(left, int) and isinstance(right, int)
                    and left.bit_length() + right.bit_length() > _MAX_INT_BITS):
                raise TemplateError("the chat template computes a number too large")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            if right * abs(left).bit_length() > _MAX_INT_BITS:
                raise TemplateError("the chat template computes a number too large")
        elif operator == "+" and isinstance(left, str | bytes) and isinstance(right, str | bytes):
            _allow(len(left) + len(right))
        elif operator == "+" and isinstance(left, list | tuple) and isinstance(right, list | tuple):
            _allow_items(len(left) + len(right))
        elif operator == "%":
            _check_printf(left, right)
        return _charge(super().call_binop(context, operator, left, right))

    def call(self, context: jinja2.runtime.Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _check_time()
        if isinstance(obj, jinja2.runtime.LoopContext) and args:
            # loop(children) in a recursive for: the same loop again, so the same count
            args = (_counted(args[0]), *args[1:])
        # the sandbox hands out str.format wrapped (functools.wraps): look through to the method
        method = getattr(obj, "__wrapped__", obj)
        owner, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
        if isinstance(owner, str | bytes):
            args = self._checked_str_call(owner, name, args, kwargs)
        return _charge(super().call(context, obj, *args, **kwargs))

    @staticmethod
    def _checked_str_call(owner: str | bytes, name: str, args: tuple[Any, ...],
                          kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """Refuses a str (or bytes) method call that would build too much; the arguments to call it with."""
        if name in ("translate", "maketrans"):  # a table can map each character to a long string
            raise TemplateError(f"the chat template calls {name}, which chat templates may not use")
        if name == "format" and isinstance(owner, str):
            _check_str_format(owner, args, kwargs)
        elif name == "format_map" and isinstance(owner, str) and args and isinstance(args[0], Mapping):
            _check_str_format(owner, (), args[0])
        elif name == "replace" and len(args) >= 2:
            _check_replace(owner, args[0], args[1])
        elif name == "join" and args:
            # joins the counted copy: a generator would be drained already
            return (_joined(owner, args[0]), *args[1:])
        elif name in ("center", "ljust", "rjust", "zfill"):
            _allow_width(args[0] if args else kwargs.get("width"))
        elif name == "expandtabs":
            tabsize = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(tabsize, int):
                _allow(len(owner) + owner.count("\t" if isinstance(owner, str) else b"\t") * max(tabsize, 0))
        elif name == "hex":
            _allow(len(owner) * 2)
        return args


def _tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None,
            separators: Any = None, sort_keys: bool = False) -> str:
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _compiled(source: str) -> jinja2.Template:
    env = _BudgetedSandbox(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols], finalize=_finalize)
    env.filters["tojson"] = _tojson
    env.filters = {name: _guarded_filter(name, func) for name, func in env.filters.items()}
    env.filters["_counted"] = _counted
    env.filters["_sized"] = _sized
    env.filters["_text"] = _text
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["range"] = _range
    del env.globals["lipsum"]  # lipsum(10**9) would write a gigabyte of Latin; no chat template uses it
    try:
        return env.from_string(_Budgeted().visit(env.parse(source)))
    except jinja2.TemplateError as err:
        raise TemplateError(f"the chat template does not compile: {err}") from None
    except Exception as err:  # e.g. a RecursionError on absurd nesting
        raise TemplateError(f"the chat template does not compile: {type(err).__name__}") from None


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
        """The prompt text transformers' apply_chat_template(tokenize=False) would give, within
        the render budget (see the module's doc)."""
        budget = _Budget()
        token = _BUDGET.set(budget)
        parts: list[str] = []
        size = 0
        try:
            for part in self._template.generate(
                messages=[dict(m) for m in messages], add_generation_prompt=add_generation_prompt,
                bos_token=tokenizer.id_to_piece(tokenizer.bos_id), eos_token=tokenizer.id_to_piece(tokenizer.eos_id),
            ):
                size += len(part)
                if size > MAX_OUTPUT_CHARS:
                    raise TemplateError(f"the chat template builds a prompt longer than {MAX_OUTPUT_CHARS}")
                budget.check_time()
                parts.append(part)
        except TemplateError:
            raise
        except jinja2.TemplateError as err:
            raise TemplateError(f"the chat template failed: {err}") from None
        except Exception as err:  # OverflowError, MemoryError, RecursionError...: still the template's
            raise TemplateError(f"the chat template failed: {type(err).__name__}: {err}") from None
        finally:
            _BUDGET.reset(token)
        return "".join(parts)

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
