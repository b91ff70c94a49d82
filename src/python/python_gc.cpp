// Garbage-collector support for the Python objects the C++ graph holds.
//
// Note [Cycles through the graph]
// A Tensor's Python wrapper owns a TensorImpl, whose autograd state owns hooks
// (Python callables) and a grad_fn, which for a Python Function owns ctx and
// backward. A hook closing over its own tensor, or a ctx storing the Function's
// output, closes a cycle through C++ that Python's collector cannot see, so it
// leaked. As in PyTorch, the wrapper's tp_traverse reports those Python objects
// and its tp_clear drops them, but only along references the wrapper owns
// alone: the TensorImpl when the wrapper is its only owner, the grad_fn when the
// TensorImpl is the node's only owner, a callable when one hook holds it. A
// reference reported by two owners would make the collector count it twice and
// free live objects; one left unreported only keeps a cycle alive (the old
// behaviour). The Node class does the same for a grad_fn object that owns its
// node alone. Traversal runs with the GIL held and reads the graph without
// changing it; clearing replaces the Python hooks by no-ops in place, so hook
// handles keep their indices.
#include "python_gc.h"

namespace norch::python {

std::shared_ptr<py::function> gil_safe(py::function fn) {
  return std::shared_ptr<py::function>(new py::function(std::move(fn)), [](py::function* f) {
    py::gil_scoped_acquire gil;
    delete f;
  });
}

namespace {

py::object tensor_or_none(const Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }

py::tuple as_tuple(const TensorList& ts) {
  py::tuple out(ts.size());
  for (size_t i = 0; i < ts.size(); ++i) out[i] = tensor_or_none(ts[i]);
  return out;
}

// The callable of a hook, when that hook is its only holder.
template <typename Hook, typename F>
PyObject* owned_callable(const F& f) {
  const Hook* h = f.template target<Hook>();
  return h && h->fn && h->fn.use_count() == 1 ? h->fn->ptr() : nullptr;
}

int traverse_node(const autograd::Node& n, visitproc visit, void* arg) {
  for (const auto& [idx, hook] : n.tensor_pre_hooks) Py_VISIT(owned_callable<PyTensorHook>(hook));
  for (const auto& hook : n.pre_hooks) Py_VISIT(owned_callable<PyNodePreHook>(hook));
  for (const auto& hook : n.post_hooks) Py_VISIT(owned_callable<PyNodePostHook>(hook));
  return traverse_py_node(n, visit, arg);
}

void clear_node(autograd::Node& n) {
  for (auto& entry : n.tensor_pre_hooks)
    if (entry.second.target<PyTensorHook>()) entry.second = [](const Tensor&) { return Tensor(); };
  for (auto& hook : n.pre_hooks)
    if (hook.target<PyNodePreHook>()) hook = [](const TensorList&) { return TensorList(); };
  for (auto& hook : n.post_hooks)
    if (hook.target<PyNodePostHook>()) hook = [](const TensorList&, const TensorList&) { return TensorList(); };
  clear_py_node(n);
}

// The C++ value inside a pybind11 instance of a class with one C++ type (the
// Tensor and Node classes and their Python subclasses), or null while it is
// being constructed.
void* value_of(PyObject* self) {
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  if (!inst->simple_layout || !inst->simple_holder_constructed) return nullptr;
  return inst->simple_value_holder[0];
}

// The autograd state of the wrapper's tensor when the wrapper alone owns it.
autograd::AutogradMeta* owned_meta(PyObject* self) {
  auto* t = static_cast<Tensor*>(value_of(self));
  if (!t || !t->defined() || t->impl_ptr().use_count() != 1) return nullptr;
  return t->impl()->autograd_meta.get();
}

int tensor_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));  // instances of heap types own a reference to their type
  autograd::AutogradMeta* m = owned_meta(self);
  if (!m) return 0;
  for (const auto& hook : m->leaf_hooks) Py_VISIT(owned_callable<PyTensorHook>(hook));
  if (m->grad_fn && m->grad_fn.use_count() == 1) return traverse_node(*m->grad_fn, visit, arg);
  return 0;
}

int tensor_clear(PyObject* self) {
  autograd::AutogradMeta* m = owned_meta(self);
  if (!m) return 0;
  for (auto& hook : m->leaf_hooks)
    if (hook.target<PyTensorHook>()) hook = [](const Tensor&) { return Tensor(); };
  if (m->grad_fn && m->grad_fn.use_count() == 1) clear_node(*m->grad_fn);
  return 0;
}

// The Node class holds std::shared_ptr<Node> (or of a subclass whose Node base
// sits at offset 0, PyNode); the count comes from the node itself.
autograd::Node* owned_node(PyObject* self) {
  auto* n = static_cast<autograd::Node*>(value_of(self));
  return n && n->weak_from_this().use_count() == 1 ? n : nullptr;
}

int node_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  autograd::Node* n = owned_node(self);
  return n ? traverse_node(*n, visit, arg) : 0;
}

int node_clear(PyObject* self) {
  if (autograd::Node* n = owned_node(self)) clear_node(*n);
  return 0;
}

void enable_gc(PyHeapTypeObject* heap_type, traverseproc traverse, inquiry clear) {
  auto* type = &heap_type->ht_type;
  type->tp_flags |= Py_TPFLAGS_HAVE_GC;
  type->tp_traverse = traverse;
  type->tp_clear = clear;
}

}  // namespace

Tensor PyTensorHook::operator()(const Tensor& g) const {
  py::gil_scoped_acquire gil;
  py::object r = (*fn)(g);
  if (r.is_none()) return Tensor();
  NORCH_CHECK_TYPE(py::isinstance<Tensor>(r), "hook must return None or a Tensor");
  return r.cast<Tensor>();
}

TensorList PyNodePreHook::operator()(const TensorList& grad_outputs) const {
  py::gil_scoped_acquire gil;
  py::object r = (*fn)(as_tuple(grad_outputs));
  return r.is_none() ? TensorList() : tensor_list(r);
}

TensorList PyNodePostHook::operator()(const TensorList& grad_inputs, const TensorList& grad_outputs) const {
  py::gil_scoped_acquire gil;
  py::object r = (*fn)(as_tuple(grad_inputs), as_tuple(grad_outputs));
  return r.is_none() ? TensorList() : tensor_list(r);
}

void tensor_type_setup(PyHeapTypeObject* heap_type) { enable_gc(heap_type, tensor_traverse, tensor_clear); }
void node_type_setup(PyHeapTypeObject* heap_type) { enable_gc(heap_type, node_traverse, node_clear); }

}  // namespace norch::python
