"""The ONNX coverage tables, joined: the module table (_onnx_table_modules.py) and the
functional table (_onnx_table_functional.py), and ``markdown()``, which renders both for
docs/onnx.md; test_onnx_modules.py checks that the docs show exactly this."""
from _onnx_table_functional import FUNCTIONAL, FUNCTIONAL_REFUSED, functional_names  # noqa: F401
from _onnx_table_modules import ABSTRACT, EXPORTED, REFUSED, Call, module_classes  # noqa: F401


def _rows(table):
    by_name = {}
    for key in table:
        base = key.split("-")[0]
        by_name.setdefault(base, []).append(key[len(base) + 1:] or "default")
    return [f"| `{name}` | {', '.join(by_name[name])} |" for name in sorted(by_name)]


def markdown():
    """The coverage tables of docs/onnx.md, rendered from the tables the tests run."""
    lines = [f"{len({k.split('-')[0] for k in EXPORTED})} `norch.nn` classes export ({len(EXPORTED)} configurations "
             f"tested) and {len(REFUSED)} cases are refused; {len({k.split('-')[0] for k in FUNCTIONAL})} functionals "
             f"export ({len(FUNCTIONAL)} configurations) and {len(FUNCTIONAL_REFUSED)} are refused.", "",
             "| Module | Configurations exported and checked |", "|---|---|"]
    lines += _rows(EXPORTED)
    lines += ["", "| `norch.nn.functional` | Configurations exported and checked |", "|---|---|"]
    lines += _rows(FUNCTIONAL)
    lines += ["", "| Refused | Why it cannot be exported |", "|---|---|"]
    classes = set(module_classes())
    for name, entry in sorted(REFUSED.items()):
        lines.append(f"| `{'nn.' if name.split('-')[0] in classes else ''}{name}` | {entry[2]} |")
    for name, entry in sorted(FUNCTIONAL_REFUSED.items()):
        lines.append(f"| `F.{name}` | {entry[2]} |")
    return "\n".join(lines)


def write_docs(path=None):
    """Rewrites the coverage table of docs/onnx.md between its markers."""
    import os
    path = path or os.path.join(os.path.dirname(__file__), "..", "..", "docs", "onnx.md")
    begin, end = "<!-- onnx-coverage-begin -->", "<!-- onnx-coverage-end -->"
    text = open(path).read()
    head, rest = text.split(begin)
    tail = rest.split(end)[1]
    with open(path, "w") as f:
        f.write(f"{head}{begin}\n{markdown()}\n{end}{tail}")
