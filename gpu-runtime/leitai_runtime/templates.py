"""Chat templates: turning a conversation into prompt ids.

Llama-2-chat (and Chinese-Alpaca-2, which adds a default system prompt) mark turns with
BOS/EOS *ids*, not with the text "<s>", so a user who types "</s>" cannot end a turn.
Each turn is encoded separately, as Meta's reference code does. Checkpoints that bring
their own Jinja template (ChatML for SmolLM, Llama-3's headers, ...) are rendered by
`jinja_template`; these built-in ones stay for checkpoints without one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, get_args

from leitai_runtime.jinja_template import JinjaChatTemplate, TemplateError, jinja_chat_template
from leitai_runtime.tokenizer import Tokenizer

ChatTemplate = Literal["alpaca2", "llama2-chat", "plain"]
BUILTIN_TEMPLATES: tuple[str, ...] = get_args(ChatTemplate)
MODEL_TEMPLATE = "model"  # the checkpoint's own Jinja template
# What the CLI, leitai.json and a request's `chat_template` may name (or give Jinja source).
CHAT_TEMPLATES: tuple[str, ...] = (*BUILTIN_TEMPLATES, MODEL_TEMPLATE)
Template = str | JinjaChatTemplate
ALPACA2_SYSTEM_PROMPT = "You are a helpful assistant. 你是一个乐于助人的助手。"

_ROLES = ("system", "user", "assistant")


def encode_completion(tokenizer: Tokenizer, prompt: str) -> list[int]:
    """BOS + the prompt, for base models and `/v1/completions`."""
    return tokenizer.encode(prompt, add_bos=True)


def resolve_template(spec: str, model_template: str | None) -> Template:
    """A built-in name, "model" (the checkpoint's Jinja template), or Jinja source itself."""
    if spec in BUILTIN_TEMPLATES:
        return spec
    if spec == MODEL_TEMPLATE:
        if model_template is None:
            raise TemplateError("this model brings no chat template of its own; "
                                f"choose one of {', '.join(BUILTIN_TEMPLATES)}")
        return jinja_chat_template(model_template)
    if "{{" in spec or "{%" in spec:
        return jinja_chat_template(spec)
    raise TemplateError(f"unknown chat template {spec!r}; valid: {', '.join(CHAT_TEMPLATES)}, or Jinja source")


def template_name(template: Template) -> str:
    """For logs and /v1/models: the built-in name, or "jinja"."""
    return template if isinstance(template, str) else "jinja"


def encode_chat(
    tokenizer: Tokenizer,
    messages: Sequence[Mapping[str, str]],
    template: Template,
    system_prompt: str | None = None,
) -> list[int]:
    """Prompt ids for `messages` ({"role": "system"|"user"|"assistant", "content": str}).

    The last message must be the user's. A Jinja template renders the messages as they
    are (with `system_prompt` first when they bring no system message). A leading system message wins over
    `system_prompt`, which wins over the template's default (alpaca2 only). For the Llama-2
    templates user and assistant turns must alternate; "plain" joins all contents with
    newlines (a base model just continues the text).
    """
    turns = _validated(messages)
    if isinstance(template, JinjaChatTemplate):
        if system_prompt and turns[0][0] != "system":
            turns.insert(0, ("system", system_prompt))
        return template.encode(tokenizer, [{"role": role, "content": content} for role, content in turns])
    if template not in BUILTIN_TEMPLATES:
        raise ValueError(f"unknown chat template {template!r}; valid: {', '.join(CHAT_TEMPLATES)}")
    system = system_prompt
    if turns[0][0] == "system":
        system = turns.pop(0)[1]
    if template == "plain":
        parts = ([system] if system else []) + [content for _, content in turns]
        return encode_completion(tokenizer, "\n".join(parts))
    if system is None and template == "alpaca2":
        system = ALPACA2_SYSTEM_PROMPT
    return _encode_llama2(tokenizer, turns, system)


def _encode_llama2(tokenizer: Tokenizer, turns: list[tuple[str, str]], system: str | None) -> list[int]:
    for i, (role, _) in enumerate(turns):
        expected = "user" if i % 2 == 0 else "assistant"
        if role != expected:
            raise ValueError(f"message {i}: expected a {expected} message, got {role} (turns must alternate)")
    contents = [content.strip() for _, content in turns]
    if system:
        contents[0] = f"<<SYS>>\n{system.strip()}\n<</SYS>>\n\n{contents[0]}"
    ids: list[int] = []
    for question, answer in zip(contents[0::2], contents[1::2], strict=False):
        ids += tokenizer.encode(f"[INST] {question} [/INST] {answer} ", add_bos=True) + [tokenizer.eos_id]
    ids += tokenizer.encode(f"[INST] {contents[-1]} [/INST]", add_bos=True)
    return ids


def _validated(messages: Sequence[Mapping[str, str]]) -> list[tuple[str, str]]:
    if not messages:
        raise ValueError("messages is empty: a chat needs at least one user message")
    turns: list[tuple[str, str]] = []
    for i, message in enumerate(messages):
        role, content = message.get("role"), message.get("content")
        if role not in _ROLES:
            raise ValueError(f"message {i}: unknown role {role!r}; valid: {', '.join(_ROLES)}")
        if not isinstance(content, str):
            raise ValueError(f"message {i}: content must be a string, got {type(content).__name__}")
        if role == "system" and i != 0:
            raise ValueError(f"message {i}: a system message may only come first")
        turns.append((role, content))
    if turns[-1][0] != "user":
        raise ValueError(f"the last message must be from the user, got {turns[-1][0]}")
    return turns
