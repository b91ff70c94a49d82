// Bindings for the fused optimizer steps (norch._C._optim).
#include "convert.h"

namespace norch::python {

namespace {
std::vector<int64_t> steps_of(py::handle s) {
  if (py::isinstance<py::int_>(s) || py::isinstance<py::float_>(s)) return {s.cast<int64_t>()};
  std::vector<int64_t> out;
  for (auto item : py::reinterpret_borrow<py::sequence>(s)) {
    if (py::isinstance<Tensor>(item)) out.push_back(item.cast<Tensor>().item().to<int64_t>());
    else out.push_back(value_cast<int64_t>(py::float_(item).cast<double>()));  // torch keeps steps as floats
  }
  return out;
}
py::list to_py(const TensorList& ts) {
  py::list l;
  for (const auto& t : ts) l.append(t.defined() ? py::cast(t) : py::none());
  return l;
}
}  // namespace

void init_optim(py::module_& parent, TensorClass& cls) {
  py::module_ m = submodule(parent, "_optim");
  using py::arg;
  // Returns the momentum buffers (those created on this step included).
  m.def("sgd_step_",
        [](py::handle params, py::handle grads, py::handle bufs, double lr, double momentum, double dampening,
           bool nesterov, double weight_decay, bool maximize) {
          TensorList b = tensor_list(bufs);
          optim::sgd_step_(tensor_list(params), tensor_list(grads), b, lr, momentum, dampening, nesterov,
                           weight_decay, maximize);
          return to_py(b);
        },
        arg("params"), arg("grads"), arg("momentum_buffers"), py::kw_only(), arg("lr"), arg("momentum") = 0.0,
        arg("dampening") = 0.0, arg("nesterov") = false, arg("weight_decay") = 0.0, arg("maximize") = false);
  m.def("adam_step_",
        [](py::handle params, py::handle grads, py::handle m1, py::handle m2, py::handle vmax, py::handle steps,
           double lr, double beta1, double beta2, double eps, double weight_decay, bool amsgrad, bool maximize,
           bool decoupled) {
          optim::adam_step_(tensor_list(params), tensor_list(grads), tensor_list(m1), tensor_list(m2),
                            tensor_list(vmax), steps_of(steps), lr, beta1, beta2, eps, weight_decay, amsgrad,
                            maximize, decoupled);
        },
        arg("params"), arg("grads"), arg("exp_avgs"), arg("exp_avg_sqs"), arg("max_exp_avg_sqs"), arg("steps"),
        py::kw_only(), arg("lr"), arg("beta1") = 0.9, arg("beta2") = 0.999, arg("eps") = 1e-8,
        arg("weight_decay") = 0.0, arg("amsgrad") = false, arg("maximize") = false,
        arg("decoupled_weight_decay") = false);
  m.def("rmsprop_step_",
        [](py::handle params, py::handle grads, py::handle sq, py::handle gavg, py::handle bufs, double lr,
           double alpha, double eps, double weight_decay, double momentum, bool centered, bool maximize) {
          optim::rmsprop_step_(tensor_list(params), tensor_list(grads), tensor_list(sq), tensor_list(gavg),
                               tensor_list(bufs), lr, alpha, eps, weight_decay, momentum, centered, maximize);
        },
        arg("params"), arg("grads"), arg("square_avgs"), arg("grad_avgs"), arg("momentum_buffers"), py::kw_only(),
        arg("lr"), arg("alpha") = 0.99, arg("eps") = 1e-8, arg("weight_decay") = 0.0, arg("momentum") = 0.0,
        arg("centered") = false, arg("maximize") = false);
  m.def("adagrad_step_",
        [](py::handle params, py::handle grads, py::handle sums, py::handle steps, double lr, double lr_decay,
           double weight_decay, double eps, bool maximize) {
          optim::adagrad_step_(tensor_list(params), tensor_list(grads), tensor_list(sums), steps_of(steps), lr,
                               lr_decay, weight_decay, eps, maximize);
        },
        arg("params"), arg("grads"), arg("state_sums"), arg("steps"), py::kw_only(), arg("lr"),
        arg("lr_decay") = 0.0, arg("weight_decay") = 0.0, arg("eps") = 1e-10, arg("maximize") = false);
}

}  // namespace norch::python
