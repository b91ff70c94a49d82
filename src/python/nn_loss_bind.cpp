// Bindings for softmax, losses, norms, embedding and dropout (norch._C._nn).
#include "convert.h"

namespace norch::python {

namespace {
Tensor opt(py::handle h) { return h.is_none() ? Tensor() : h.cast<Tensor>(); }
nn::Reduction red(const std::string& r, const char* op) { return nn::reduction_from_string(r, op); }
}  // namespace

void init_nn_loss(py::module_& parent, TensorClass&) {
  py::module_ m = submodule(parent, "_nn");
  using py::arg;
  // Each kernel runs with the GIL released once the arguments are converted (Note [GIL release]).
  m.def("softmax", [](const Tensor& x, int64_t dim, py::handle dtype) {
    const auto dt = opt_dtype(dtype);
    GilRelease release(x.numel());
    return nn::softmax(x, dim, dt);
  },
        arg("input"), arg("dim"), arg("dtype") = py::none());
  m.def("log_softmax",
        [](const Tensor& x, int64_t dim, py::handle dtype) {
          const auto dt = opt_dtype(dtype);
          GilRelease release(x.numel());
          return nn::log_softmax(x, dim, dt);
        },
        arg("input"), arg("dim"), arg("dtype") = py::none());
  m.def("cross_entropy",
        [](const Tensor& x, const Tensor& t, py::handle w, int64_t ignore, const std::string& r, double ls) {
          const Tensor w_ = opt(w);
          GilRelease release(x.numel());
          return nn::cross_entropy(x, t, w_, red(r, "cross_entropy"), ignore, ls);
        },
        arg("input"), arg("target"), arg("weight") = py::none(), arg("ignore_index") = -100,
        arg("reduction") = "mean", arg("label_smoothing") = 0.0);
  m.def("nll_loss",
        [](const Tensor& x, const Tensor& t, py::handle w, int64_t ignore, const std::string& r) {
          const Tensor w_ = opt(w);
          GilRelease release(x.numel());
          return nn::nll_loss(x, t, w_, red(r, "nll_loss"), ignore);
        },
        arg("input"), arg("target"), arg("weight") = py::none(), arg("ignore_index") = -100,
        arg("reduction") = "mean");
  m.def("mse_loss", [](const Tensor& x, const Tensor& t, const std::string& r) {
    GilRelease release(x.numel());
    return nn::mse_loss(x, t, red(r, "mse_loss"));
  }, arg("input"), arg("target"), arg("reduction") = "mean");
  m.def("l1_loss", [](const Tensor& x, const Tensor& t, const std::string& r) {
    GilRelease release(x.numel());
    return nn::l1_loss(x, t, red(r, "l1_loss"));
  }, arg("input"), arg("target"), arg("reduction") = "mean");
  m.def("smooth_l1_loss", [](const Tensor& x, const Tensor& t, const std::string& r, double beta) {
    GilRelease release(x.numel());
    return nn::smooth_l1_loss(x, t, red(r, "smooth_l1_loss"), beta);
  }, arg("input"), arg("target"), arg("reduction") = "mean", arg("beta") = 1.0);
  m.def("huber_loss", [](const Tensor& x, const Tensor& t, const std::string& r, double delta) {
    GilRelease release(x.numel());
    return nn::huber_loss(x, t, red(r, "huber_loss"), delta);
  }, arg("input"), arg("target"), arg("reduction") = "mean", arg("delta") = 1.0);
  m.def("binary_cross_entropy", [](const Tensor& x, const Tensor& t, py::handle w, const std::string& r) {
    const Tensor w_ = opt(w);
    GilRelease release(x.numel());
    return nn::binary_cross_entropy(x, t, w_, red(r, "binary_cross_entropy"));
  }, arg("input"), arg("target"), arg("weight") = py::none(), arg("reduction") = "mean");
  m.def("binary_cross_entropy_with_logits",
        [](const Tensor& x, const Tensor& t, py::handle w, const std::string& r, py::handle pw) {
          const Tensor w_ = opt(w), pw_ = opt(pw);
          GilRelease release(x.numel());
          return nn::binary_cross_entropy_with_logits(x, t, w_, red(r, "binary_cross_entropy_with_logits"), pw_);
        },
        arg("input"), arg("target"), arg("weight") = py::none(), arg("reduction") = "mean",
        arg("pos_weight") = py::none());
  m.def("kl_div", [](const Tensor& x, const Tensor& t, const std::string& r, bool log_target) {
    GilRelease release(x.numel());
    return nn::kl_div(x, t, r, log_target);
  }, arg("input"), arg("target"), arg("reduction") = "mean", arg("log_target") = false);
  m.def("batch_norm",
        [](const Tensor& x, py::handle rm, py::handle rv, py::handle w, py::handle b, bool training, double momentum,
           double eps) {
          Tensor rm_ = opt(rm), rv_ = opt(rv), w_ = opt(w), b_ = opt(b);
          GilRelease release(x.numel());
          return nn::batch_norm(x, rm_, rv_, w_, b_, training, momentum, eps);
        },
        arg("input"), arg("running_mean"), arg("running_var"), arg("weight") = py::none(), arg("bias") = py::none(),
        arg("training") = false, arg("momentum") = 0.1, arg("eps") = 1e-5);
  m.def("layer_norm",
        [](const Tensor& x, py::handle shape, py::handle w, py::handle b, double eps) {
          const Shape ns = to_shape(shape);
          const Tensor w_ = opt(w), b_ = opt(b);
          GilRelease release(x.numel());
          return nn::layer_norm(x, ns, w_, b_, eps);
        },
        arg("input"), arg("normalized_shape"), arg("weight") = py::none(), arg("bias") = py::none(),
        arg("eps") = 1e-5);
  m.def("group_norm",
        [](const Tensor& x, int64_t groups, py::handle w, py::handle b, double eps) {
          const Tensor w_ = opt(w), b_ = opt(b);
          GilRelease release(x.numel());
          return nn::group_norm(x, groups, w_, b_, eps);
        },
        arg("input"), arg("num_groups"), arg("weight") = py::none(), arg("bias") = py::none(), arg("eps") = 1e-5);
  m.def("embedding",
        [](const Tensor& idx, const Tensor& w, std::optional<int64_t> pad) { return nn::embedding(w, idx, pad); },
        arg("input"), arg("weight"), arg("padding_idx") = py::none());
  m.def("dropout", &nn::dropout, arg("input"), arg("p") = 0.5, arg("training") = true);
}

}  // namespace norch::python
