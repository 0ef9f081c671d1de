"""A strict parser and a small evaluator for the part of HCL2 (Terraform's
native syntax and its template language) that deploy/terraform uses.

    body = parse(text, filename)          # Body: .attributes, .blocks
    parts = parse_template(text, name)    # a templatefile() file
    value = evaluate(expr, ctx)           # with ctx.lookup / ctx.function

Understood: blocks with labels (one-line blocks with one attribute too),
attributes, comments (#, //, /* */), numbers, true/false/null, quoted
strings with escapes, ${} interpolation and %{if}/%{for} directives (strip
markers ~ included), heredocs (<<EOT and <<-EOT), tuples, objects, function
calls (with a final ...), attribute and index access, splats, unary and
binary operators, conditionals and for expressions.

Strict by design: anything else raises HCLError with FILE:LINE:COL, so a
test that reads a file it does not understand fails instead of passing
over it. Where this parser is unsure of Terraform's exact behaviour (e.g.
whitespace stripping in templates) the tests compare with the real
terraform binary when it is installed.
"""
import base64
import gzip
import ipaddress
import json
import re

__all__ = ["HCLError", "parse", "parse_template", "evaluate", "render", "references",
           "walk", "apply_steps", "template_variables", "body_expressions", "Context", "Body", "Block", "Attribute", "Literal", "Template", "Traversal", "Call",
           "Tuple", "Object", "Unary", "Binary", "Conditional", "ForExpr", "Postfix",
           "Interp", "IfDirective", "ForDirective"]


class HCLError(Exception):
    pass


# --- syntax tree ---------------------------------------------------------------

class Node:
    line = 0

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "line")
        return f"{type(self).__name__}({fields})"


class Literal(Node):
    def __init__(self, value, line):
        self.value, self.line = value, line


class Interp(Node):
    def __init__(self, expr, line):
        self.expr, self.line = expr, line


class IfDirective(Node):
    def __init__(self, cond, then, otherwise, line):
        self.cond, self.then, self.otherwise, self.line = cond, then, otherwise, line


class ForDirective(Node):
    def __init__(self, key_var, value_var, coll, body, line):
        self.key_var, self.value_var, self.coll, self.body, self.line = key_var, value_var, coll, body, line


class Template(Node):
    """A quoted string or heredoc: parts are str, Interp, IfDirective, ForDirective."""

    def __init__(self, parts, line, heredoc=False):
        self.parts, self.line, self.heredoc = parts, line, heredoc

    def literal(self):
        """The string when there is no interpolation or directive, else None."""
        if all(isinstance(p, str) for p in self.parts):
            return "".join(self.parts)
        return None


class Traversal(Node):
    """root.attr[index]...: steps are ("attr", name), ("index", expr), ("splat",)."""

    def __init__(self, root, steps, line):
        self.root, self.steps, self.line = root, steps, line

    def attrs(self):
        """The leading attribute names after the root (up to the first index or splat)."""
        out = []
        for s in self.steps:
            if s[0] != "attr":
                break
            out.append(s[1])
        return out

    def dotted(self):
        return ".".join([self.root] + self.attrs())


class Postfix(Node):
    """Attribute/index/splat steps applied to something that is not a name."""

    def __init__(self, base, steps, line):
        self.base, self.steps, self.line = base, steps, line


class Call(Node):
    def __init__(self, name, args, expand, line):
        self.name, self.args, self.expand, self.line = name, args, expand, line


class Tuple(Node):
    def __init__(self, items, line):
        self.items, self.line = items, line


class Object(Node):
    """items: (key, value); a bare-name key is a Template holding that name."""

    def __init__(self, items, line):
        self.items, self.line = items, line


class Unary(Node):
    def __init__(self, op, expr, line):
        self.op, self.expr, self.line = op, expr, line


class Binary(Node):
    def __init__(self, op, left, right, line):
        self.op, self.left, self.right, self.line = op, left, right, line


class Conditional(Node):
    def __init__(self, cond, true, false, line):
        self.cond, self.true, self.false, self.line = cond, true, false, line


class ForExpr(Node):
    def __init__(self, key_var, value_var, coll, key_expr, value_expr, cond, grouping, line):
        self.key_var, self.value_var, self.coll = key_var, value_var, coll
        self.key_expr, self.value_expr, self.cond = key_expr, value_expr, cond
        self.grouping, self.line = grouping, line


class Attribute:
    def __init__(self, name, expr, line):
        self.name, self.expr, self.line = name, expr, line

    def __repr__(self):
        return f"Attribute({self.name!r}, {self.expr!r})"


class Block:
    def __init__(self, type, labels, body, line):
        self.type, self.labels, self.body, self.line = type, labels, body, line

    def __repr__(self):
        return f"Block({self.type!r}, {self.labels!r})"


class Body:
    def __init__(self):
        self.attributes = {}
        self.blocks = []

    def blocks_of(self, type):
        return [b for b in self.blocks if b.type == type]


# --- parser ----------------------------------------------------------------------

IDENT_START = re.compile(r"[A-Za-z_]")
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
BINARY_LEVELS = [["||"], ["&&"], ["==", "!="], ["<=", ">=", "<", ">"], ["+", "-"], ["*", "/", "%"]]
ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


class _Parser:
    def __init__(self, text, filename):
        self.text = text
        self.name = filename
        self.pos = 0

    # position and errors
    def where(self, pos=None):
        pos = self.pos if pos is None else pos
        line = self.text.count("\n", 0, pos) + 1
        col = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return line, col

    def line(self):
        return self.where()[0]

    def error(self, msg, pos=None):
        line, col = self.where(pos)
        near = self.text[self.pos if pos is None else pos:][:20]
        raise HCLError(f"{self.name}:{line}:{col}: {msg} (at {near!r})")

    def peek(self, s):
        return self.text.startswith(s, self.pos)

    def eof(self):
        return self.pos >= len(self.text)

    def expect(self, s):
        if not self.peek(s):
            self.error(f"expected {s!r}")
        self.pos += len(s)

    def ws(self, newlines):
        """Skips blanks and comments; newlines too when asked."""
        t = self.text
        while self.pos < len(t):
            c = t[self.pos]
            if c in " \t":
                self.pos += 1
            elif c == "\r" and t.startswith("\r\n", self.pos):
                if not newlines:
                    return
                self.pos += 2
            elif c == "\n":
                if not newlines:
                    return
                self.pos += 1
            elif c == "#" or t.startswith("//", self.pos):
                end = t.find("\n", self.pos)
                self.pos = len(t) if end < 0 else end
            elif t.startswith("/*", self.pos):
                end = t.find("*/", self.pos + 2)
                if end < 0:
                    self.error("unterminated /* comment")
                if "\n" in t[self.pos:end] and not newlines:
                    self.error("a multi-line comment where a newline would end the item")
                self.pos = end + 2
            elif c == "\r":
                self.error("a lone carriage return")
            else:
                return

    def ident(self, what="a name"):
        m = IDENT.match(self.text, self.pos)
        if not m:
            self.error(f"expected {what}")
        self.pos = m.end()
        return m.group(0)

    def at_ident(self, word):
        m = IDENT.match(self.text, self.pos)
        return m is not None and m.group(0) == word

    # bodies
    def body(self, closing):
        body = Body()
        while True:
            self.ws(True)
            if self.eof():
                if closing:
                    self.error("missing '}' at the end of the file")
                return body
            if self.peek("}"):
                if not closing:
                    self.error("unexpected '}'")
                return body
            start = self.pos
            line = self.line()
            name = self.ident("an attribute or block name")
            self.ws(False)
            if self.peek("=") and not self.peek("=="):
                self.pos += 1
                self.ws(False)
                expr = self.expr(False)
                if name in body.attributes:
                    self.error(f"duplicate attribute {name!r}", start)
                body.attributes[name] = Attribute(name, expr, line)
                self.end_of_item()
                continue
            labels = []
            while not self.peek("{"):
                if self.peek('"'):
                    t = self.quoted()
                    if t.literal() is None:
                        self.error("a block label cannot have interpolations")
                    labels.append(t.literal())
                elif IDENT_START.match(self.text, self.pos):
                    labels.append(self.ident())
                else:
                    self.error(f"expected '=' or a block after {name!r}")
                self.ws(False)
            self.pos += 1
            self.ws(False)
            if self.peek("}"):
                self.pos += 1
                inner = Body()
            elif self.eof() or self.peek("\n") or self.peek("\r\n"):
                inner = self.body(True)
                self.expect("}")
            else:
                # a one-line block holds at most one attribute
                inner = Body()
                aline = self.line()
                aname = self.ident("an attribute name")
                self.ws(False)
                if not self.peek("=") or self.peek("=="):
                    self.error("a one-line block may only hold one attribute")
                self.pos += 1
                self.ws(False)
                inner.attributes[aname] = Attribute(aname, self.expr(False), aline)
                self.ws(False)
                self.expect("}")
            body.blocks.append(Block(name, labels, inner, line))
            self.end_of_item()

    def end_of_item(self):
        self.ws(False)
        if self.eof():
            return
        if self.peek("\n"):
            self.pos += 1
        elif self.peek("\r\n"):
            self.pos += 2
        else:
            self.error("expected a newline after the item")

    # expressions
    def expr(self, nl):
        line = self.line()
        cond = self.binary(0, nl)
        self.ws(nl)
        if self.peek("?"):
            self.pos += 1
            self.ws(nl)
            true = self.expr(nl)
            self.ws(nl)
            self.expect(":")
            self.ws(nl)
            false = self.expr(nl)
            return Conditional(cond, true, false, line)
        return cond

    def binary(self, level, nl):
        if level == len(BINARY_LEVELS):
            return self.unary(nl)
        left = self.binary(level + 1, nl)
        while True:
            save = self.pos
            self.ws(nl)
            op = next((o for o in BINARY_LEVELS[level] if self.peek(o)), None)
            # "=>" and "==" are not "=", and "<<" is a heredoc, not "<"
            if op is None or (op in ("<", ">") and self.peek(op + op)):
                self.pos = save
                return left
            line = self.line()
            self.pos += len(op)
            self.ws(nl)
            right = self.binary(level + 1, nl)
            left = Binary(op, left, right, line)

    def unary(self, nl):
        line = self.line()
        if self.peek("!") and not self.peek("!="):
            self.pos += 1
            self.ws(nl)
            return Unary("!", self.unary(nl), line)
        if self.peek("-"):
            self.pos += 1
            self.ws(nl)
            return Unary("-", self.unary(nl), line)
        return self.postfix(self.primary(), nl)

    def postfix(self, base, nl):
        steps = []
        while True:
            if self.peek(".*"):
                self.pos += 2
                steps.append(("splat",))
            elif self.peek(".") and not self.peek("..."):
                self.pos += 1
                m = re.compile(r"[0-9]+").match(self.text, self.pos)
                if m:  # legacy index syntax: list.0
                    self.pos = m.end()
                    steps.append(("index", Literal(int(m.group(0)), self.line())))
                else:
                    steps.append(("attr", self.ident("an attribute name after '.'")))
            elif self.peek("["):
                self.pos += 1
                self.ws(True)
                if self.peek("*"):
                    self.pos += 1
                    self.ws(True)
                    self.expect("]")
                    steps.append(("splat",))
                else:
                    index = self.expr(True)
                    self.ws(True)
                    self.expect("]")
                    steps.append(("index", index))
            else:
                break
        if not steps:
            return base
        if isinstance(base, Traversal):
            base.steps.extend(steps)
            return base
        return Postfix(base, steps, base.line)

    def primary(self):
        line = self.line()
        t = self.text
        if self.eof():
            self.error("expected an expression, found the end of the file")
        c = t[self.pos]
        m = NUMBER.match(t, self.pos)
        if m:
            self.pos = m.end()
            s = m.group(0)
            return Literal(float(s) if ("." in s or "e" in s or "E" in s) else int(s), line)
        if c == '"':
            return self.quoted()
        if self.peek("<<"):
            return self.heredoc()
        if c == "[":
            return self.tuple_or_for()
        if c == "{":
            return self.object_or_for()
        if c == "(":
            self.pos += 1
            self.ws(True)
            e = self.expr(True)
            self.ws(True)
            self.expect(")")
            return e
        if IDENT_START.match(c):
            name = self.ident()
            if name in ("true", "false"):
                return Literal(name == "true", line)
            if name == "null":
                return Literal(None, line)
            if self.peek("::"):
                self.error("provider-defined functions are not supported")
            if self.peek("("):
                return self.call(name, line)
            return Traversal(name, [], line)
        self.error("expected an expression")

    def call(self, name, line):
        self.expect("(")
        args, expand = [], False
        self.ws(True)
        while not self.peek(")"):
            if expand:
                self.error("'...' must follow the last argument")
            args.append(self.expr(True))
            self.ws(True)
            if self.peek("..."):
                self.pos += 3
                expand = True
                self.ws(True)
            if self.peek(","):
                self.pos += 1
                self.ws(True)
            elif not self.peek(")"):
                self.error("expected ',' or ')' in the arguments")
        self.pos += 1
        return Call(name, args, expand, line)

    def tuple_or_for(self):
        line = self.line()
        self.expect("[")
        self.ws(True)
        if self.at_ident("for") and self.text[self.pos + 3:self.pos + 4] in (" ", "\t", "\n"):
            f = self.for_head(line)
            f.value_expr = self.expr(True)
            self.for_tail(f, "]")
            return f
        items = []
        while not self.peek("]"):
            items.append(self.expr(True))
            self.ws(True)
            if self.peek(","):
                self.pos += 1
                self.ws(True)
            elif not self.peek("]"):
                self.error("expected ',' or ']' in the list")
        self.pos += 1
        return Tuple(items, line)

    def object_or_for(self):
        line = self.line()
        self.expect("{")
        self.ws(True)
        if self.at_ident("for") and self.text[self.pos + 3:self.pos + 4] in (" ", "\t", "\n"):
            f = self.for_head(line)
            f.key_expr = self.expr(True)
            self.ws(True)
            self.expect("=>")
            self.ws(True)
            f.value_expr = self.expr(True)
            self.ws(True)
            if self.peek("..."):
                self.pos += 3
                f.grouping = True
            self.for_tail(f, "}")
            return f
        items = []
        while not self.peek("}"):
            kline = self.line()
            if IDENT_START.match(self.text, self.pos) and not self.at_ident("null"):
                save = self.pos
                name = self.ident()
                self.ws(False)
                if (self.peek("=") and not self.peek("==")) or self.peek(":"):
                    key = Template([name], kline)
                else:
                    self.pos = save
                    key = self.expr(False)
            else:
                key = self.expr(False)
            self.ws(False)
            if self.peek("=") and not self.peek("=="):
                self.pos += 1
            elif self.peek(":"):
                self.pos += 1
            else:
                self.error("expected '=' or ':' after an object key")
            self.ws(False)
            value = self.expr(False)
            items.append((key, value))
            self.ws(False)
            if self.peek(","):
                self.pos += 1
                self.ws(True)
            elif self.peek("\n") or self.peek("\r\n"):
                self.ws(True)
            elif not self.peek("}"):
                self.error("expected ',', a newline or '}' after an object item")
        self.pos += 1
        return Object(items, line)

    def for_head(self, line):
        self.ident()  # "for"
        self.ws(True)
        first = self.ident("a for variable")
        self.ws(True)
        key_var, value_var = None, first
        if self.peek(","):
            self.pos += 1
            self.ws(True)
            key_var, value_var = first, self.ident("a for variable")
            self.ws(True)
        if not self.at_ident("in"):
            self.error("expected 'in' in a for expression")
        self.pos += 2
        self.ws(True)
        coll = self.expr(True)
        self.ws(True)
        self.expect(":")
        self.ws(True)
        return ForExpr(key_var, value_var, coll, None, None, None, False, line)

    def for_tail(self, f, closing):
        self.ws(True)
        if self.at_ident("if"):
            self.pos += 2
            self.ws(True)
            f.cond = self.expr(True)
            self.ws(True)
        self.expect(closing)

    # templates
    def quoted(self):
        line = self.line()
        self.expect('"')
        tokens = self.template_tokens(quoted=True)
        return Template(_build_template(tokens, self), line)

    def heredoc(self):
        line = self.line()
        self.expect("<<")
        flush = False
        if self.peek("-"):
            flush = True
            self.pos += 1
        marker = self.ident("a heredoc marker")
        if not (self.peek("\n") or self.peek("\r\n")):
            self.error("a heredoc marker must end its line")
        self.pos += 1 if self.peek("\n") else 2
        start = self.pos
        closing = re.compile(r"^[ \t]*" + re.escape(marker) + r"[ \t]*$", re.M)
        m = closing.search(self.text, self.pos)
        if not m:
            self.error(f"heredoc {marker} is never closed", start)
        raw = self.text[start:m.start()]
        self.pos = m.end()
        if flush:
            lines = raw.split("\n")
            indents = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
            cut = min(indents) if indents else 0
            raw = "\n".join(ln[cut:] if ln.strip() else ln[min(cut, len(ln)):] for ln in lines)
        sub = _Parser(raw, self.name)
        sub.base_line = self.where(start)[0] - 1
        tokens = sub.template_tokens(quoted=False)
        try:
            parts = _build_template(tokens, sub)
        except HCLError as e:
            raise HCLError(f"{e} (in the heredoc starting at line {line})")
        return Template(parts, line, heredoc=True)

    def template_tokens(self, quoted):
        """Lexes a template up to '"' (quoted) or the end of the text into
        ("lit", str) and tag tokens, each tag with its strip markers."""
        t = self.text
        tokens = []
        buf = []
        while True:
            if self.pos >= len(t):
                if quoted:
                    self.error("unterminated string")
                break
            c = t[self.pos]
            if quoted and c == '"':
                self.pos += 1
                break
            if quoted and c == "\n":
                self.error("a quoted string cannot span lines (use a heredoc)")
            if quoted and c == "\\":
                e = t[self.pos + 1:self.pos + 2]
                if e in ESCAPES:
                    buf.append(ESCAPES[e])
                    self.pos += 2
                elif e in ("u", "U"):
                    n = 4 if e == "u" else 8
                    hexd = t[self.pos + 2:self.pos + 2 + n]
                    if not re.fullmatch(r"[0-9A-Fa-f]{%d}" % n, hexd):
                        self.error(f"bad \\{e} escape")
                    buf.append(chr(int(hexd, 16)))
                    self.pos += 2 + n
                else:
                    self.error(f"unknown escape \\{e}")
                continue
            if t.startswith("$${", self.pos) or t.startswith("%%{", self.pos):
                buf.append(t[self.pos + 1:self.pos + 3])
                self.pos += 3
                continue
            if t.startswith("${", self.pos) or t.startswith("%{", self.pos):
                if buf:
                    tokens.append(("lit", "".join(buf)))
                    buf = []
                tokens.append(self.template_tag())
                continue
            buf.append(c)
            self.pos += 1
        if buf:
            tokens.append(("lit", "".join(buf)))
        return tokens

    def template_tag(self):
        line = self.line() + getattr(self, "base_line", 0)
        kind = self.text[self.pos]
        self.pos += 2
        strip_left = False
        if self.peek("~"):
            strip_left = True
            self.pos += 1
        self.ws(True)
        if kind == "$":
            e = self.expr(True)
            tag = ("interp", e, line)
        else:
            word = self.ident("a template directive")
            self.ws(True)
            if word == "if":
                tag = ("if", self.expr(True), line)
            elif word == "for":
                first = self.ident("a for variable")
                self.ws(True)
                key_var, value_var = None, first
                if self.peek(","):
                    self.pos += 1
                    self.ws(True)
                    key_var, value_var = first, self.ident("a for variable")
                    self.ws(True)
                if not self.at_ident("in"):
                    self.error("expected 'in' in a for directive")
                self.pos += 2
                self.ws(True)
                tag = ("for", (key_var, value_var, self.expr(True)), line)
            elif word in ("else", "endif", "endfor"):
                tag = (word, None, line)
            else:
                self.error(f"unknown template directive {word!r}")
        self.ws(True)
        strip_right = False
        if self.peek("~"):
            strip_right = True
            self.pos += 1
        self.expect("}")
        return (tag[0], tag[1], tag[2], strip_left, strip_right)


def _strip_after(s):
    """After a ~} marker: the whitespace of the literal's first line, its
    newline included (Terraform's template lexer works line by line)."""
    i = s.find("\n")
    if i < 0:
        return s.lstrip()
    return s[:i + 1].lstrip() + s[i + 1:]


def _strip_before(s):
    """Before a ${~ or %{~ marker: the trailing whitespace of the literal's
    last line (a line is the text up to and including its newline)."""
    if not s:
        return s
    i = s.rfind("\n", 0, len(s) - 1) if s.endswith("\n") else s.rfind("\n")
    return s[:i + 1] + s[i + 1:].rstrip()


def _build_template(tokens, parser):
    toks = list(tokens)
    for i, tok in enumerate(toks):
        if tok[0] == "lit":
            continue
        _, _, _, strip_left, strip_right = tok
        if strip_left and i > 0 and toks[i - 1][0] == "lit":
            toks[i - 1] = ("lit", _strip_before(toks[i - 1][1]))
        if strip_right and i + 1 < len(toks) and toks[i + 1][0] == "lit":
            toks[i + 1] = ("lit", _strip_after(toks[i + 1][1]))
    pos = 0

    def seq(until):
        nonlocal pos
        parts = []
        while pos < len(toks):
            tok = toks[pos]
            kind = tok[0]
            if kind in until:
                return parts, kind
            pos += 1
            if kind == "lit":
                if tok[1]:
                    parts.append(tok[1])
            elif kind == "interp":
                parts.append(Interp(tok[1], tok[2]))
            elif kind == "if":
                then, end = seq(("else", "endif"))
                otherwise = []
                if end == "else":
                    pos += 1
                    otherwise, end = seq(("endif",))
                if end != "endif":
                    raise HCLError(f"{parser.name}:{tok[2]}: %{{if}} without %{{endif}}")
                pos += 1
                parts.append(IfDirective(tok[1], then, otherwise, tok[2]))
            elif kind == "for":
                body, end = seq(("endfor",))
                if end != "endfor":
                    raise HCLError(f"{parser.name}:{tok[2]}: %{{for}} without %{{endfor}}")
                pos += 1
                key_var, value_var, coll = tok[1]
                parts.append(ForDirective(key_var, value_var, coll, body, tok[2]))
            else:
                raise HCLError(f"{parser.name}:{tok[2]}: %{{{kind}}} without its opening directive")
        return parts, None

    parts, end = seq(())
    return parts


def parse(text, filename="<hcl>"):
    """The Body of a .tf file."""
    p = _Parser(text, filename)
    return p.body(False)


def parse_template(text, filename="<template>"):
    """The parts of a template file, as templatefile() reads it."""
    p = _Parser(text, filename)
    return Template(_build_template(p.template_tokens(quoted=False), p), 1)


# --- walking -----------------------------------------------------------------------

def children(node):
    if isinstance(node, Template):
        for p in node.parts:
            if not isinstance(p, str):
                yield p
    elif isinstance(node, Interp):
        yield node.expr
    elif isinstance(node, IfDirective):
        yield node.cond
        yield from (p for p in node.then + node.otherwise if not isinstance(p, str))
    elif isinstance(node, ForDirective):
        yield node.coll
        yield from (p for p in node.body if not isinstance(p, str))
    elif isinstance(node, Traversal):
        yield from (s[1] for s in node.steps if s[0] == "index")
    elif isinstance(node, Postfix):
        yield node.base
        yield from (s[1] for s in node.steps if s[0] == "index")
    elif isinstance(node, Call):
        yield from node.args
    elif isinstance(node, Tuple):
        yield from node.items
    elif isinstance(node, Object):
        for k, v in node.items:
            yield k
            yield v
    elif isinstance(node, Unary):
        yield node.expr
    elif isinstance(node, Binary):
        yield node.left
        yield node.right
    elif isinstance(node, Conditional):
        yield node.cond
        yield node.true
        yield node.false
    elif isinstance(node, ForExpr):
        yield from (e for e in (node.coll, node.key_expr, node.value_expr, node.cond) if e is not None)
    elif isinstance(node, (Literal, str)):
        return
    else:
        raise HCLError(f"unknown node {node!r}")


def walk(node):
    yield node
    for c in children(node):
        yield from walk(c)


def references(node, scope=frozenset()):
    """Every Traversal in node whose root is not a for variable in scope."""
    if isinstance(node, Traversal):
        if node.root not in scope:
            yield node
        for s in node.steps:
            if s[0] == "index":
                yield from references(s[1], scope)
        return
    if isinstance(node, ForExpr):
        yield from references(node.coll, scope)
        inner = scope | {v for v in (node.key_var, node.value_var) if v}
        for e in (node.key_expr, node.value_expr, node.cond):
            if e is not None:
                yield from references(e, inner)
        return
    if isinstance(node, ForDirective):
        yield from references(node.coll, scope)
        inner = scope | {v for v in (node.key_var, node.value_var) if v}
        for p in node.body:
            if not isinstance(p, str):
                yield from references(p, inner)
        return
    for c in children(node):
        yield from references(c, scope)


def body_expressions(body):
    """Every attribute expression of a body, nested blocks included."""
    for a in body.attributes.values():
        yield a.expr
    for b in body.blocks:
        yield from body_expressions(b.body)


# --- evaluation -------------------------------------------------------------------

class Context:
    """What evaluate() asks for names and functions. lookup(traversal) gets
    a Traversal whose root is not a local (for) variable and returns its
    value; function(name, args) the result of a call."""

    def lookup(self, traversal):
        raise HCLError(f"line {traversal.line}: no value for {traversal.dotted()}")

    def function(self, name, args):
        if name in FUNCTIONS:
            return FUNCTIONS[name](*args)
        raise HCLError(f"function {name}() is not supported by this evaluator")


def to_string(v, line=0):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    raise HCLError(f"line {line}: cannot use {type(v).__name__} {v!r} as a string")


def apply_steps(value, steps, ctx=None, scope=None, line=0):
    """value.attr[index]... for the steps of a Traversal."""
    return _steps(value, steps, ctx or Context(), scope or {}, line)


def _steps(value, steps, ctx, scope, line):
    for s in steps:
        if s[0] == "attr":
            if not isinstance(value, dict) or s[1] not in value:
                raise HCLError(f"line {line}: no attribute {s[1]!r}")
            value = value[s[1]]
        elif s[0] == "index":
            key = evaluate(s[1], ctx, scope)
            if isinstance(value, list):
                if not isinstance(key, (int, float)) or int(key) != key or not 0 <= key < len(value):
                    raise HCLError(f"line {line}: bad list index {key!r}")
                value = value[int(key)]
            elif isinstance(value, dict):
                value = value[to_string(key, line)]
            else:
                raise HCLError(f"line {line}: cannot index {type(value).__name__}")
        else:
            raise HCLError(f"line {line}: splat expressions are not evaluated here")
    return value


def evaluate(node, ctx, scope=None):
    scope = scope or {}
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Template):
        if len(node.parts) == 1 and isinstance(node.parts[0], Interp) and not node.heredoc:
            return evaluate(node.parts[0].expr, ctx, scope)  # "${x}" is x itself
        return _render_parts(node.parts, ctx, scope)
    if isinstance(node, Traversal):
        if node.root in scope:
            return _steps(scope[node.root], node.steps, ctx, scope, node.line)
        return ctx.lookup(node)
    if isinstance(node, Postfix):
        return _steps(evaluate(node.base, ctx, scope), node.steps, ctx, scope, node.line)
    if isinstance(node, Call):
        args = [evaluate(a, ctx, scope) for a in node.args]
        if node.expand:
            args = args[:-1] + list(args[-1])
        return ctx.function(node.name, args)
    if isinstance(node, Tuple):
        return [evaluate(i, ctx, scope) for i in node.items]
    if isinstance(node, Object):
        out = {}
        for k, v in node.items:
            out[to_string(evaluate(k, ctx, scope), node.line)] = evaluate(v, ctx, scope)
        return out
    if isinstance(node, Unary):
        v = evaluate(node.expr, ctx, scope)
        return (not v) if node.op == "!" else -v
    if isinstance(node, Binary):
        a = evaluate(node.left, ctx, scope)
        if node.op == "&&" and not a:
            return False
        if node.op == "||" and a:
            return True
        b = evaluate(node.right, ctx, scope)
        ops = {"||": lambda: bool(b), "&&": lambda: bool(b), "==": lambda: a == b,
               "!=": lambda: a != b, "<": lambda: a < b, ">": lambda: a > b,
               "<=": lambda: a <= b, ">=": lambda: a >= b, "+": lambda: a + b,
               "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b, "%": lambda: a % b}
        return ops[node.op]()
    if isinstance(node, Conditional):
        return evaluate(node.true if evaluate(node.cond, ctx, scope) else node.false, ctx, scope)
    if isinstance(node, ForExpr):
        coll = evaluate(node.coll, ctx, scope)
        pairs = sorted(coll.items()) if isinstance(coll, dict) else list(enumerate(coll))
        out_list, out_map = [], {}
        for k, v in pairs:
            inner = dict(scope)
            inner[node.value_var] = v
            if node.key_var:
                inner[node.key_var] = k
            if node.cond is not None and not evaluate(node.cond, ctx, inner):
                continue
            if node.key_expr is None:
                out_list.append(evaluate(node.value_expr, ctx, inner))
            else:
                key = to_string(evaluate(node.key_expr, ctx, inner), node.line)
                out_map[key] = evaluate(node.value_expr, ctx, inner)
        return out_list if node.key_expr is None else out_map
    raise HCLError(f"cannot evaluate {node!r}")


def _render_parts(parts, ctx, scope):
    out = []
    for p in parts:
        if isinstance(p, str):
            out.append(p)
        elif isinstance(p, Interp):
            v = evaluate(p.expr, ctx, scope)
            if v is None:
                raise HCLError(f"line {p.line}: null value in a template")
            out.append(to_string(v, p.line))
        elif isinstance(p, IfDirective):
            out.append(_render_parts(p.then if evaluate(p.cond, ctx, scope) else p.otherwise, ctx, scope))
        elif isinstance(p, ForDirective):
            coll = evaluate(p.coll, ctx, scope)
            pairs = sorted(coll.items()) if isinstance(coll, dict) else list(enumerate(coll))
            for k, v in pairs:
                inner = dict(scope)
                inner[p.value_var] = v
                if p.key_var:
                    inner[p.key_var] = k
                out.append(_render_parts(p.body, ctx, inner))
        else:
            raise HCLError(f"cannot render {p!r}")
    return "".join(out)


def render(template, variables, ctx=None):
    """templatefile(): the template's text with variables (a dict) filled in.
    Any other name is an error, as in Terraform."""
    ctx = ctx or Context()

    class _Vars(Context):
        def lookup(self, traversal):
            if traversal.root not in variables:
                raise HCLError(f"line {traversal.line}: template variable {traversal.root!r} is not given")
            return _steps(variables[traversal.root], traversal.steps, self, {}, traversal.line)

        def function(self, name, args):
            if name == "templatefile":
                raise HCLError("templatefile() cannot be called from a template")
            return ctx.function(name, args)

    return _render_parts(template.parts, _Vars(), {})


def template_variables(template):
    """The root names a template refers to (its free variables)."""
    return {t.root for t in references(template)}


# Terraform's functions that the deploy files call, done as Terraform does.

def _jsonencode(v):
    s = json.dumps(v, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    # Go's encoder (which Terraform uses) escapes these for HTML safety.
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        s = s.replace(a, b)
    return s


def _replace(s, old, new):
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        # Terraform treats /.../ as a regular expression (RE2; $1 references)
        return re.sub(old[1:-1], re.sub(r"\$(\d+)", r"\\\1", new), s)
    return s.replace(old, new)


def _indent(n, s):
    return s.replace("\n", "\n" + " " * int(n))


def _max(*a):
    return max(a)


def _min(*a):
    return min(a)


FUNCTIONS = {
    "jsonencode": _jsonencode,
    "jsondecode": json.loads,
    "replace": _replace,
    "indent": _indent,
    "base64encode": lambda s: base64.b64encode(s.encode()).decode(),
    "base64decode": lambda s: base64.b64decode(s).decode(),
    "base64gzip": lambda s: base64.b64encode(gzip.compress(s.encode(), mtime=0)).decode(),
    "max": _max,
    "min": _min,
    "sort": lambda xs: sorted(xs),
    "join": lambda sep, xs: sep.join(xs),
    "length": len,
    "cidrhost": lambda prefix, n: str(ipaddress.ip_network(prefix)[int(n)]),
    "concat": lambda *lists: [x for xs in lists for x in xs],
    "merge": lambda *maps: {k: v for m in maps for k, v in m.items()},
    "upper": str.upper,
    "lower": str.lower,
    "trimspace": str.strip,
    "tostring": lambda v: to_string(v),
    "can": None,  # needs unevaluated arguments: not supported
}
del FUNCTIONS["can"]
