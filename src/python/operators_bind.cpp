// Tensor's arithmetic and bitwise operators (+ - * / // % & | ^ << >> and their
// in-place forms) as CPython number slots on the Tensor type.
//
// Note [Operator slots]
// `a + b` on two tiny tensors is nearly all overhead, and with __add__ bound as a
// pybind11 method most of that overhead was the binding: CPython's generic
// slot_nb_add looked __add__ up on the type and called it as a method,
// pybind11's dispatcher built its argument vectors and ran the type casters,
// and the result went back through py::cast, which looks the Tensor type up in
// pybind11's registry on every call. The number slots here are C functions that
// the interpreter calls directly: they read the C++ Tensor out of the wrapper,
// run the op and wrap the result with the type information cached at import.
// Measured on `a + b`, shape [4] float32, one thread: instructions per call
// from the operator to the returned object (callgrind; the result's
// deallocation, about 1200 more, is unchanged), and the time per call:
//   pybind11 __add__ method, before                        5200 instr   521 ns
//     CPython's generic slot and method call               ~470
//     pybind11's dispatcher and argument casters          ~1100
//     the op in the core (norch::add)                      2600
//     py::cast of the result (two registry lookups)         990
//   number slot, result wrapped with the cached type      3470 instr   ~370 ns
//   ... and without init_instance's own type lookup       3340 instr
//   ... and the core's fast paths (norch::add: 1800)      2460 instr   ~280 ns
// (Times from one run each way under a load average of 7, CPU time: NumPy took
// 240-260 ns on the same data, PyTorch 975 ns.) In the same runs `a * 2` went
// from 890 to 515 ns (its 2 now also skips py::isinstance<Tensor>'s registry
// lookup in as_tensor_arg, convert.cpp) and `a += b` from 390 to 185 ns.
// The core's part: Note [Binary fast path] (src/ops/iterator_build.cpp) and the
// one-run loop in TensorIterator::serial_for_each (norch/tensor/iterator_inl.h).
//
// Semantics are those of the methods they replace. A slot serves both sides:
// CPython calls nb_add(v, w) for `v + w` and, when v declines, for w's
// reflected add, so the slot takes whichever operand is a Tensor as self. An
// operand that is neither a Tensor nor a number (a NumPy array, an object with
// its own __radd__) gets NotImplemented, so Python tries the other side.
// Because the slots are set before the type is readied, CPython itself creates
// Tensor.__add__, __radd__, __iadd__, ... as slot wrappers over them: Python
// subclasses (nn.Parameter) inherit the fast slots, a subclass overriding
// __add__ gets CPython's generic slot as usual, and code that replaces
// Tensor.__add__ for a while (the ONNX tracer) and puts the descriptor back
// gets the fast slot back.
#include "convert.h"

namespace norch::python {

namespace {

PyTypeObject* g_tensor_type = nullptr;
const py::detail::type_info* g_tensor_info = nullptr;

// The Tensor inside a wrapper of the Tensor class or a Python subclass; nullptr
// (no Python error set) for any other object.
Tensor* tensor_of(PyObject* o) {
  if (!PyObject_TypeCheck(o, g_tensor_type)) return nullptr;
  auto* inst = reinterpret_cast<py::detail::instance*>(o);
  void* v = inst->simple_layout ? inst->simple_value_holder[0]
                                : inst->get_value_and_holder(g_tensor_info, false).value_ptr();
  // Tensor.__new__(Tensor) without __init__ holds no C++ tensor yet.
  if (!v) throw Error(ErrorKind::Type, "the Tensor was not initialized (its __init__ was not called)");
  return static_cast<Tensor*>(v);
}

// A new wrapper owning `t`: what py::cast(Tensor&&) does (a moved-in value, a
// unique_ptr holder, the instance registered), without its two per-call type
// lookups. Registration is kept: a method returning this tensor by reference
// (add_ returns self) finds this wrapper there and returns the same object.
using TensorHolder = std::unique_ptr<Tensor>;
static_assert(std::is_same_v<TensorClass::holder_type, TensorHolder>, "wrap_tensor builds this holder");
PyObject* wrap_tensor(Tensor&& t) {
  PyObject* self = py::detail::make_new_instance(g_tensor_type);
  if (!self) return nullptr;
  auto* inst = reinterpret_cast<py::detail::instance*>(self);
  py::detail::value_and_holder v_h = inst->get_value_and_holder(g_tensor_info);
  auto* value = new Tensor(std::move(t));
  v_h.value_ptr() = value;
  inst->owned = true;
  py::detail::register_instance(inst, value, g_tensor_info);
  v_h.set_instance_registered();
  new (std::addressof(v_h.holder<TensorHolder>())) TensorHolder(value);
  v_h.set_holder_constructed();
  return self;
}

// Errors leave as the Python exceptions the bindings raise everywhere else
// (module.cpp's translator).
template <typename F>
PyObject* guarded(F&& f) {
  try {
    return f();
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
}

PyObject* not_implemented() { Py_RETURN_NOTIMPLEMENTED; }

using BinaryFn = Tensor (*)(const Tensor&, const Tensor&);
using InplaceFn = Tensor& (*)(Tensor&, const Tensor&);

// v (op) w where v or w is a Tensor: Tensor.__op__ when v is, Tensor.__rop__ when only w is.
template <BinaryFn F>
PyObject* binary_slot(PyObject* v, PyObject* w) {
  return guarded([&]() -> PyObject* {
    Tensor* a = tensor_of(v);
    const bool reflected = a == nullptr;
    if (reflected) a = tensor_of(w);
    if (!a) return not_implemented();
    PyObject* other = reflected ? v : w;
    const Tensor* b = tensor_of(other);
    std::optional<Tensor> converted;
    if (!b) {
      converted = as_tensor_arg(other, a->device());
      if (!converted) return not_implemented();
      b = &*converted;
    }
    const int64_t work = std::max(a->numel(), b->numel());
    Tensor out = run_kernel(work, [&] { return reflected ? F(*b, *a) : F(*a, *b); });
    return wrap_tensor(std::move(out));
  });
}

// v (op)= w: writes into v and returns v itself.
template <InplaceFn F>
PyObject* inplace_slot(PyObject* v, PyObject* w) {
  return guarded([&]() -> PyObject* {
    Tensor* a = tensor_of(v);
    if (!a) return not_implemented();
    const Tensor* b = tensor_of(w);
    std::optional<Tensor> converted;
    if (!b) {
      converted = as_tensor_arg(w, a->device());
      if (!converted) return not_implemented();
      b = &*converted;
    }
    run_kernel(std::max(a->numel(), b->numel()), [&] { F(*a, *b); });
    Py_INCREF(v);
    return v;
  });
}

// Binding-side adapters for the ops with defaulted extra arguments.
Tensor add2(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor sub2(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor div2(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor& add2_(Tensor& a, const Tensor& b) { return add_(a, b); }
Tensor& sub2_(Tensor& a, const Tensor& b) { return sub_(a, b); }
Tensor& div2_(Tensor& a, const Tensor& b) { return div_(a, b); }

}  // namespace

void tensor_operator_slots(PyHeapTypeObject* heap_type) {
  PyNumberMethods& nb = heap_type->as_number;
  nb.nb_add = binary_slot<add2>;
  nb.nb_subtract = binary_slot<sub2>;
  nb.nb_multiply = binary_slot<mul>;
  nb.nb_true_divide = binary_slot<div2>;
  nb.nb_floor_divide = binary_slot<floor_divide>;
  nb.nb_remainder = binary_slot<remainder>;
  nb.nb_and = binary_slot<bitwise_and>;
  nb.nb_or = binary_slot<bitwise_or>;
  nb.nb_xor = binary_slot<bitwise_xor>;
  nb.nb_lshift = binary_slot<bitwise_left_shift>;
  nb.nb_rshift = binary_slot<bitwise_right_shift>;
  nb.nb_inplace_add = inplace_slot<add2_>;
  nb.nb_inplace_subtract = inplace_slot<sub2_>;
  nb.nb_inplace_multiply = inplace_slot<mul_>;
  nb.nb_inplace_true_divide = inplace_slot<div2_>;
  nb.nb_inplace_floor_divide = inplace_slot<floor_divide_>;
  nb.nb_inplace_remainder = inplace_slot<remainder_>;
  nb.nb_inplace_and = inplace_slot<bitwise_and_>;
  nb.nb_inplace_or = inplace_slot<bitwise_or_>;
  nb.nb_inplace_xor = inplace_slot<bitwise_xor_>;
  nb.nb_inplace_lshift = inplace_slot<bitwise_left_shift_>;
  nb.nb_inplace_rshift = inplace_slot<bitwise_right_shift_>;
}

void init_operators(py::module_&, TensorClass& cls) {
  g_tensor_type = reinterpret_cast<PyTypeObject*>(cls.ptr());
  g_tensor_info = py::detail::get_type_info(typeid(Tensor));
}

}  // namespace norch::python
