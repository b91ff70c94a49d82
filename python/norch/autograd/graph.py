"""norch.autograd.graph: look at the backward graph.

``to_dot(t)`` returns Graphviz DOT text of the graph that ``t.backward()`` would
run: one box per node (MulBackward0, ...), leaves as AccumulateGrad with the
leaf's shape, edges from each node to the nodes its gradients flow into.
``render(t, path)`` draws it with the optional ``graphviz`` package.
"""
from .. import _C

Node = _C.Node


def _label(fn):
    name = fn.name()
    if name == "AccumulateGrad":
        v = fn.variable
        return f"AccumulateGrad\\n{tuple(v.shape)} {str(v.dtype).replace('norch.', '')}"
    return name


def to_dot(tensor, name="backward"):
    """DOT text of tensor's backward graph (an empty graph for a tensor without history)."""
    lines = [f"digraph {name} {{", '  node [shape=box, fontname="monospace"];']
    root = tensor.grad_fn
    ids = {}
    out_shape = tuple(tensor.shape)
    lines.append(f'  output [label="output\\n{out_shape}", shape=ellipse];')
    if root is not None:
        stack = [root]
        ids[id(root)] = (0, root)
        lines.append(f'  n0 [label="{_label(root)}"];')
        lines.append("  output -> n0;")
        while stack:
            fn = stack.pop()
            src = ids[id(fn)][0]
            for child, input_nr in fn.next_functions:
                if child is None:
                    continue
                if id(child) not in ids:
                    ids[id(child)] = (len(ids), child)
                    nid = ids[id(child)][0]
                    style = ', style=filled, fillcolor=lightblue' if child.name() == "AccumulateGrad" else ""
                    lines.append(f'  n{nid} [label="{_label(child)}"{style}];')
                    stack.append(child)
                lines.append(f"  n{src} -> n{ids[id(child)][0]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(tensor, path, format="svg"):
    """Writes the graph to ``path.<format>`` with graphviz; returns the file's path."""
    try:
        import graphviz
    except ImportError as e:
        raise ImportError("norch.autograd.graph.render needs the 'graphviz' Python package "
                          "(pip install graphviz) and the Graphviz binaries") from e
    src = graphviz.Source(to_dot(tensor))
    return src.render(path, format=format, cleanup=True)
