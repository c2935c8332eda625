"""Text-format protobuf: ProjectorConfig (projector_config.pbtxt) and CheckpointState (checkpoint)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from ._paths import read_inside
from .errors import LogdirError
from .limits import MAX_CONFIG_BYTES, MAX_PBTXT_DEPTH, MAX_PBTXT_STRING, MAX_PBTXT_TOKENS

__all__ = [
    "CheckpointState",
    "EmbeddingInfo",
    "ProjectorConfig",
    "SpriteInfo",
    "format_projector_config",
    "parse_checkpoint_state",
    "parse_projector_config",
    "parse_text_message",
    "read_projector_config",
    "read_text_file",
]

Value = Union[str, "Message"]
Message = dict[str, list[Value]]


@dataclass
class SpriteInfo:
    """`SpriteMetadata`: one atlas image and the [width, height] of each thumbnail."""

    image_path: str = ""
    single_image_dim: list[int] = field(default_factory=list)


@dataclass
class EmbeddingInfo:
    """`EmbeddingInfo`: one tensor and its metadata, bookmarks and sprite."""

    tensor_name: str = ""
    metadata_path: str = ""
    bookmarks_path: str = ""
    tensor_shape: list[int] = field(default_factory=list)
    sprite: SpriteInfo | None = None
    tensor_path: str = ""


@dataclass
class ProjectorConfig:
    """`ProjectorConfig`: where the checkpoint is and which embeddings to show."""

    model_checkpoint_path: str = ""
    embeddings: list[EmbeddingInfo] = field(default_factory=list)
    model_checkpoint_dir: str = ""


@dataclass
class CheckpointState:
    """`CheckpointState` from a `checkpoint` file: latest prefix and all kept prefixes."""

    model_checkpoint_path: str = ""
    all_model_checkpoint_paths: list[str] = field(default_factory=list)


# --- tokenizer ----------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\r\n\f\v]+|\#[^\n]*)
  | (?P<punct>[:{}<>\[\],;])
  | (?P<word>[A-Za-z0-9_.+\-]+)
    """,
    re.VERBOSE | re.DOTALL,
)

# Quoted strings are scanned by `_string_end`, not by a regex: `"(?:[^"\\]|\\.)*"` keeps a backtracking
# record per character (a 10 MB string took 1.2 GB and 15 s).
_STRING_STOP = {'"': re.compile(r'["\\\n]'), "'": re.compile(r"['\\\n]")}

_SIMPLE_ESCAPES = {
    "n": b"\n",
    "t": b"\t",
    "r": b"\r",
    "a": b"\a",
    "b": b"\b",
    "f": b"\f",
    "v": b"\v",
    "\\": b"\\",
    "'": b"'",
    '"': b'"',
    "?": b"?",
}


def _string_end(text: str, start: int, where: str) -> int:
    """The index just past the quoted string starting at `text[start]` (a quote), at most MAX_PBTXT_STRING long."""
    quote, stop = text[start], _STRING_STOP[text[start]]
    end = min(len(text), start + MAX_PBTXT_STRING + 2)
    pos = start + 1
    while True:
        found = stop.search(text, pos, end)
        if found is None:
            if end < len(text):
                raise LogdirError(f"{where}: a quoted string longer than {MAX_PBTXT_STRING:,} characters")
            raise LogdirError(f"{where}: unterminated string")
        char = found.group()
        if char == quote:
            return found.end()
        if char == "\n":
            raise LogdirError(f"{where}: unterminated string")
        pos = found.end() + 1  # the escaped character, whatever it is


def _unescape(body: str, where: str) -> str:
    """Decode the C-style escapes of a quoted string's body."""
    if "\\" not in body:
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        i += 1
        if i >= len(body):
            raise LogdirError(f"{where}: string ends with a lone backslash")
        esc = body[i]
        if esc in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[esc]
            i += 1
        elif esc in "01234567":
            j = i
            while j < len(body) and j < i + 3 and body[j] in "01234567":
                j += 1
            out.append(int(body[i:j], 8) & 0xFF)
            i = j
        elif esc in "xX":
            j = i + 1
            while j < len(body) and j < i + 3 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            if j == i + 1:
                raise LogdirError(f"{where}: \\x escape without hex digits")
            out.append(int(body[i + 1 : j], 16))
            i = j
        elif esc in "uU":
            width = 4 if esc == "u" else 8
            digits = body[i + 1 : i + 1 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise LogdirError(f"{where}: bad \\{esc} escape")
            out += chr(int(digits, 16)).encode("utf-8", "surrogatepass")
            i += 1 + width
        else:
            raise LogdirError(f"{where}: unknown escape \\{esc}")
    return out.decode("utf-8", "surrogateescape")


@dataclass(slots=True)
class _Token:
    kind: str
    text: str
    line: int


def _tokenize(text: str, source: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    line = 1
    while pos < len(text):
        if len(tokens) >= MAX_PBTXT_TOKENS:  # 16 MiB of "{" would be 16 million tokens (GBs) before any depth check
            raise LogdirError(f"{source}: line {line}: more than {MAX_PBTXT_TOKENS:,} tokens; not a projector config")
        if text[pos] in _STRING_STOP:
            end = _string_end(text, pos, f"{source}: line {line}")
            tokens.append(_Token("string", _unescape(text[pos + 1 : end - 1], f"{source}: line {line}"), line))
            line += text.count("\n", pos, end)  # an escaped newline
            pos = end
            continue
        match = _TOKEN.match(text, pos)
        if match is None:
            snippet = text[pos : pos + 20].split("\n")[0]
            raise LogdirError(f"{source}: line {line}: unexpected text {snippet!r}")
        kind = match.lastgroup or ""
        chunk = match.group()
        if kind != "space":
            tokens.append(_Token(kind, chunk, line))
        line += chunk.count("\n")
        pos = match.end()
    return tokens


# --- parser -------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token], source: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.source = source

    def _error(self, message: str) -> LogdirError:
        if self.pos < len(self.tokens):
            tok = self.tokens[self.pos]
            return LogdirError(f"{self.source}: line {tok.line}: {message} (found {tok.text!r})")
        return LogdirError(f"{self.source}: {message} (found end of file)")

    def _peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _accept(self, text: str) -> bool:
        tok = self._peek()
        if tok is not None and tok.kind == "punct" and tok.text == text:
            self.pos += 1
            return True
        return False

    def message(self, close: str | None, depth: int = 0) -> Message:
        if depth > MAX_PBTXT_DEPTH:
            raise self._error(f"blocks nested more than {MAX_PBTXT_DEPTH} deep")
        result: Message = {}
        while True:
            tok = self._peek()
            if tok is None:
                if close is not None:
                    raise self._error(f"missing {close!r}")
                return result
            if tok.kind == "punct" and tok.text == close:
                self.pos += 1
                return result
            if tok.kind == "punct" and tok.text == "[":  # extension or Any: [type.name]
                self.pos += 1
                parts = []
                while not self._accept("]"):
                    nxt = self._peek()
                    if nxt is None:
                        raise self._error("unterminated extension name")
                    parts.append(nxt.text)
                    self.pos += 1
                name = "[" + "".join(parts) + "]"
            elif tok.kind == "word" and re.match(r"[A-Za-z_]", tok.text):
                name = tok.text
                self.pos += 1
            else:
                raise self._error("expected a field name")
            has_colon = self._accept(":")
            values = result.setdefault(name, [])
            if self._accept("["):
                if not self._accept("]"):
                    while True:
                        values.append(self._value(True, depth))
                        if self._accept("]"):
                            break
                        if not self._accept(","):
                            raise self._error("expected ',' or ']' in a list")
            else:
                values.append(self._value(has_colon, depth))
            if not self._accept(","):
                self._accept(";")

    def _value(self, has_colon: bool, depth: int) -> Value:
        if self._accept("{"):
            return self.message("}", depth + 1)
        if self._accept("<"):
            return self.message(">", depth + 1)
        if not has_colon:
            raise self._error("expected ':' or '{'")
        tok = self._peek()
        if tok is None or tok.kind == "punct":
            raise self._error("expected a value")
        self.pos += 1
        if tok.kind == "string":
            parts = [tok.text]
            while (nxt := self._peek()) is not None and nxt.kind == "string":
                parts.append(nxt.text)  # adjacent literals concatenate
                self.pos += 1
            return "".join(parts)
        return tok.text


def parse_text_message(text: str, source: str = "<text>") -> Message:
    """Parse any text-format message into {field: [values]} (values are str or nested dicts)."""
    return _Parser(_tokenize(text, source), source).message(None)


# --- typed views --------------------------------------------------------------------


def _strings(msg: Message, name: str, source: str) -> list[str]:
    out = []
    for value in msg.get(name, []):
        if isinstance(value, dict):
            raise LogdirError(f"{source}: field {name!r} should be a string, not a block")
        out.append(value)
    return out


def _string(msg: Message, name: str, source: str) -> str:
    values = _strings(msg, name, source)
    return values[-1] if values else ""  # last one wins, as in protobuf


def _uints(msg: Message, name: str, source: str) -> list[int]:
    out = []
    for value in _strings(msg, name, source):
        try:
            number = int(value, 0)
        except ValueError:
            raise LogdirError(f"{source}: field {name!r} needs whole numbers, got {value!r}") from None
        if number < 0:
            raise LogdirError(f"{source}: field {name!r} must not be negative, got {number}")
        out.append(number)
    return out


def _blocks(msg: Message, name: str, source: str) -> list[Message]:
    out = []
    for value in msg.get(name, []):
        if not isinstance(value, dict):
            raise LogdirError(f"{source}: field {name!r} should be a {{ }} block")
        out.append(value)
    return out


def parse_projector_config(text: str, source: str = "projector_config.pbtxt") -> ProjectorConfig:
    """Parse a text-format ProjectorConfig; unknown fields are skipped."""
    msg = parse_text_message(text, source)
    config = ProjectorConfig(
        model_checkpoint_path=_string(msg, "model_checkpoint_path", source),
        model_checkpoint_dir=_string(msg, "model_checkpoint_dir", source),
    )
    for block in _blocks(msg, "embeddings", source):
        sprite = None
        sprites = _blocks(block, "sprite", source)
        if sprites:
            merged: Message = {}
            for part in sprites:  # repeated singular messages merge
                for key, values in part.items():
                    merged.setdefault(key, []).extend(values)
            sprite = SpriteInfo(
                image_path=_string(merged, "image_path", source),
                single_image_dim=_uints(merged, "single_image_dim", source),
            )
        config.embeddings.append(
            EmbeddingInfo(
                tensor_name=_string(block, "tensor_name", source),
                metadata_path=_string(block, "metadata_path", source),
                bookmarks_path=_string(block, "bookmarks_path", source),
                tensor_shape=_uints(block, "tensor_shape", source),
                sprite=sprite,
                tensor_path=_string(block, "tensor_path", source),
            )
        )
    return config


def read_text_file(path: Path, root: Path | None = None) -> str:
    """A small UTF-8 text file inside ``root`` (default: its own folder), bounded in size."""
    data = read_inside(Path(os.path.realpath(root or path.parent)), path, MAX_CONFIG_BYTES, "text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise LogdirError(f"{path}: not a text file (invalid UTF-8)") from None


def read_projector_config(path: str | Path, root: Path | None = None) -> ProjectorConfig:
    """Read and parse a projector_config.pbtxt file that lies inside ``root``."""
    path = Path(path)
    return parse_projector_config(read_text_file(path, root), str(path))


def parse_checkpoint_state(text: str, source: str = "checkpoint") -> CheckpointState:
    """Parse a `checkpoint` state file (text-format CheckpointState)."""
    msg = parse_text_message(text, source)
    return CheckpointState(
        model_checkpoint_path=_string(msg, "model_checkpoint_path", source),
        all_model_checkpoint_paths=_strings(msg, "all_model_checkpoint_paths", source),
    )


# --- writer -------------------------------------------------------------------------


def _quote(value: str) -> str:
    out = []
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\{ord(ch):03o}")
        elif 0xDC80 <= ord(ch) <= 0xDCFF:  # a raw byte kept by surrogateescape
            out.append(f"\\{ord(ch) - 0xDC00:03o}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def format_projector_config(config: ProjectorConfig) -> str:
    """Render a ProjectorConfig as text format, fields in proto field-number order."""
    lines: list[str] = []
    if config.model_checkpoint_path:
        lines.append(f"model_checkpoint_path: {_quote(config.model_checkpoint_path)}")
    for emb in config.embeddings:
        lines.append("embeddings {")
        for name in ("tensor_name", "metadata_path", "bookmarks_path"):
            if getattr(emb, name):
                lines.append(f"  {name}: {_quote(getattr(emb, name))}")
        lines.extend(f"  tensor_shape: {int(d)}" for d in emb.tensor_shape)
        if emb.sprite is not None:
            lines.append("  sprite {")
            if emb.sprite.image_path:
                lines.append(f"    image_path: {_quote(emb.sprite.image_path)}")
            lines.extend(f"    single_image_dim: {int(d)}" for d in emb.sprite.single_image_dim)
            lines.append("  }")
        if emb.tensor_path:
            lines.append(f"  tensor_path: {_quote(emb.tensor_path)}")
        lines.append("}")
    if config.model_checkpoint_dir:
        lines.append(f"model_checkpoint_dir: {_quote(config.model_checkpoint_dir)}")
    return "".join(line + "\n" for line in lines)
