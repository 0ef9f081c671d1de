"""Every key the YAML config loaders accept, read out of their C source.

The loaders (src/controller/config*.c, src/sim/config.c) learn a key only
through ymap_get() and the typed ycfg_*() reads of src/common/yamlcfg.h,
on a `struct ymap` that ymap_init() bound to a section path. This module
follows exactly that:

- in each function, `ymap_init(&M, y, NODE, "PATH")` binds M to PATH (a
  path built with snprintf, such as "schedule[%d]", becomes "schedule[]");
- a `struct ymap *P` parameter takes its path from the callers' argument;
- a helper that passes its `const char *KEY` parameter on as a key (such as
  read_int or read_endpoint) is expanded where it is called;
- a key given as NAMES[i] is looked up in a `NAMES[] = { "..." }` array.

A `pools:` entry (src/controller/config_pools.c) is read with the top
level's paths (its keys are a pool's, as at the top level without pools:,
and errors get the pool's name from the reader's scope), so its `name` is
listed as a top-level key, as poolscale.yaml(5) documents it.

Anything it cannot resolve raises KeyError with the function's name, so a
new way of reading keys makes the test fail instead of hiding keys.

    keys()  -> {"pool", "provider.local.vcpu", "schedule[].cron", ...}
"""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCES = [
    "src/controller/config.c",
    "src/controller/config_forecast.c",
    "src/controller/config_ha.c",
    "src/controller/config_linode.c",
    "src/controller/config_pools.c",
    "src/controller/config_schedule.c",
    "src/sim/config.c",
]
# The typed reads and ymap_get: (map argument, key argument) positions.
PRIMITIVES = {
    "ymap_get": (0, 1),
    "ycfg_int": (0, 1),
    "ycfg_double": (0, 1),
    "ycfg_duration": (0, 1),
    "ycfg_bool": (0, 1),
    "ycfg_string": (0, 1),
}
FUNC_RE = re.compile(r"^(?:static\s+)?[a-z_][\w\s\*]*?\b(\w+)\(([^)]*)\)\s*\n\{(.*?)^\}",
                     re.M | re.S)


def _strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _calls(body, name):
    """(offset, argument list split at top-level commas) of every call of name."""
    out = []
    for m in re.finditer(r"\b%s\s*\(" % re.escape(name), body):
        i, depth, args, cur, instr = m.end(), 1, [], "", False
        while depth:
            ch = body[i]
            if instr:
                cur += ch
                if ch == "\\":
                    cur += body[i + 1]
                    i += 1
                elif ch == '"':
                    instr = False
            elif ch == '"':
                instr = True
                cur += ch
            elif ch in "([{":
                depth += 1
                cur += ch
            elif ch in ")]}":
                depth -= 1
                if depth:
                    cur += ch
            elif ch == "," and depth == 1:
                args.append(cur.strip())
                cur = ""
            else:
                cur += ch
            i += 1
        args.append(cur.strip())
        out.append((m.start(), args))
    return out


class _Func:
    def __init__(self, name, params, body):
        self.name, self.body = name, body
        self.params = [p.strip() for p in params.split(",")]
        self.param_names = [re.split(r"[\s\*]+", p)[-1] for p in self.params]

    def map_params(self):
        return [i for i, p in enumerate(self.params) if re.match(r"struct\s+ymap\s*\*", p)]


def _functions():
    funcs = {}
    for rel in SOURCES:
        with open(os.path.join(ROOT, rel)) as f:
            text = _strip_comments(f.read())
        found = [m for m in FUNC_RE.finditer(text)]
        for m in found:
            funcs[m.group(1)] = _Func(m.group(1), m.group(2), m.group(3))
        # Every key read must sit in a function this module understood.
        reads = re.compile(r"\b(?:%s|ymap_init)\s*\(" % "|".join(PRIMITIVES))
        inside = sum(len(reads.findall(m.group(3))) for m in found)
        if inside != len(reads.findall(text)):
            raise KeyError(f"{rel}: key reads outside the functions found "
                           f"({inside} of {len(reads.findall(text))})")
    return funcs


def _literal(arg):
    m = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', arg)
    return m.group(1) if m else None


def _format_path(fmt):
    return re.sub(r"%[-0-9]*z?[dui]", "", fmt)


def keys():
    funcs = _functions()
    # Helpers: a function whose key argument is one of its parameters.
    helpers = dict(PRIMITIVES)
    changed = True
    while changed:
        changed = False
        for f in funcs.values():
            if f.name in helpers:
                continue
            for callee, (mi, ki) in list(helpers.items()):
                for _, args in _calls(f.body, callee):
                    if len(args) <= max(mi, ki):
                        continue
                    mname = args[mi].lstrip("&")
                    kname = args[ki]
                    if kname in f.param_names and mname in f.param_names:
                        helpers[f.name] = (f.param_names.index(mname), f.param_names.index(kname))
                        changed = True
                        break
                if f.name in helpers:
                    break

    def bindings(f):
        """[(offset, map variable, path)] for the ymap_init()s in f."""
        out = []
        for at, args in _calls(f.body, "ymap_init"):
            var, path = args[0].lstrip("&"), args[3]
            lit = _literal(path)
            if lit is None:
                fmts = [a for _, a in _calls(f.body, "snprintf") if a[0] == path]
                if len(fmts) != 1 or _literal(fmts[0][2]) is None:
                    raise KeyError(f"{f.name}: cannot resolve the path {path!r}")
                lit = _format_path(_literal(fmts[0][2])) + "[]"
                lit = lit.replace("[][]", "[]")
            out.append((at, var, lit))
        return out

    # Paths of `struct ymap *` parameters of section readers, from callers.
    param_paths = {}

    def resolve_map(f, expr, bound, at):
        """The path of map expr at offset at: the last ymap_init of it before."""
        var = expr.lstrip("&")
        inits = [p for o, v, p in bound if v == var and o < at]
        if inits:
            return [inits[-1]]
        if var in f.param_names:
            return param_paths.get((f.name, f.param_names.index(var)), [])
        raise KeyError(f"{f.name}: cannot resolve the map {expr!r}")

    result = set()
    # Two passes: the first learns the paths of ymap parameters.
    for _ in range(3):
        for f in funcs.values():
            if f.name in helpers:
                continue
            bound = bindings(f)
            for callee in funcs.values():
                if callee.name in helpers or not callee.map_params():
                    continue
                for at, args in _calls(f.body, callee.name):
                    for i in callee.map_params():
                        paths = resolve_map(f, args[i], bound, at)
                        param_paths.setdefault((callee.name, i), [])
                        for p in paths:
                            if p not in param_paths[(callee.name, i)]:
                                param_paths[(callee.name, i)].append(p)
    for f in funcs.values():
        if f.name in helpers:
            continue
        bound = bindings(f)
        for callee, (mi, ki) in helpers.items():
            for at, args in _calls(f.body, callee):
                if len(args) <= max(mi, ki):
                    continue
                paths = resolve_map(f, args[mi], bound, at)
                karg = args[ki]
                names = []
                if _literal(karg) is not None:
                    names = [_literal(karg)]
                else:
                    m = re.fullmatch(r"(\w+)\[\w+\]", karg)
                    arr = m and re.search(r"\b%s\[\w*\]\s*=\s*\{([^}]*)\}" % m.group(1), f.body)
                    if not arr:
                        raise KeyError(f"{f.name}: cannot resolve the key {karg!r}")
                    names = [_literal(s.strip()) for s in arr.group(1).split(",")]
                if not paths:
                    raise KeyError(f"{f.name}: no path for the map {args[mi]!r}")
                for p in paths:
                    for k in names:
                        result.add(f"{p}.{k}" if p else k)
    return result


if __name__ == "__main__":
    for k in sorted(keys()):
        print(k)
