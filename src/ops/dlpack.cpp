// DLPack export and import (norch/ops/dlpack.h): filling the exchange structs,
// and wrapping a producer's memory in a Storage whose deleter hands it back.
// It sits with the ops because a read-only producer's memory is copied.
#include "norch/ops/dlpack.h"

#include <vector>

#include "norch/backend.h"
#include "norch/ops/copy.h"

namespace norch {

namespace {

// One row per dtype: adding a dtype to norch is one line here.
struct DTypeRow {
  ScalarType type;
  DLDataType dl;
};
constexpr DTypeRow kDTypes[] = {
    {ScalarType::Bool, {kDLBool, 8, 1}},     {ScalarType::UInt8, {kDLUInt, 8, 1}},
    {ScalarType::Int32, {kDLInt, 32, 1}},    {ScalarType::Int64, {kDLInt, 64, 1}},
    {ScalarType::Float32, {kDLFloat, 32, 1}}, {ScalarType::Float64, {kDLFloat, 64, 1}},
    {ScalarType::Float16, {kDLFloat, 16, 1}}, {ScalarType::BFloat16, {kDLBfloat, 16, 1}},
};

// The managed struct lives inside the object that keeps the memory alive, so
// one allocation carries shape, strides and the storage reference; the
// deleter frees it whole. It holds the Storage, not the TensorImpl: a later
// `t.data = other` or `set_` on the producer must not free what a consumer reads.
template <typename Managed>
struct ExportCtx {
  Storage storage;
  std::vector<int64_t> shape, strides;
  Managed managed{};
};

template <typename Managed>
Managed* fill(const Tensor& t) {
  NORCH_CHECK(t.defined(), "to_dlpack: the tensor is undefined");
  auto* ctx = new ExportCtx<Managed>();
  ctx->storage = t.impl()->storage;
  ctx->shape.assign(t.sizes().begin(), t.sizes().end());
  ctx->strides.assign(t.strides().begin(), t.strides().end());
  DLTensor& dl = ctx->managed.dl_tensor;
  // The first element's address, as PyTorch exports it: consumers that
  // predate byte_offset read it correctly.
  dl.data = t.impl()->storage->data ? t.data_ptr() : nullptr;
  dl.device = to_dl_device(t.device());
  dl.ndim = static_cast<int32_t>(t.dim());
  dl.dtype = to_dl_dtype(t.dtype());
  dl.shape = ctx->shape.data();
  dl.strides = ctx->strides.data();
  dl.byte_offset = 0;
  ctx->managed.manager_ctx = ctx;
  ctx->managed.deleter = [](Managed* self) { delete static_cast<ExportCtx<Managed>*>(self->manager_ctx); };
  return &ctx->managed;
}

// Checks everything before taking ownership, so a refusal leaves `m` to the caller.
template <typename Managed>
Tensor wrap(Managed* m) {
  NORCH_CHECK(m != nullptr, "from_dlpack: received a null DLManagedTensor");
  const DLTensor& dl = m->dl_tensor;
  auto dtype = from_dl_dtype(dl.dtype);
  NORCH_CHECK_TYPE(dtype, "from_dlpack: unsupported dtype (DLPack code ", int(dl.dtype.code), ", bits ",
                   int(dl.dtype.bits), ", lanes ", int(dl.dtype.lanes),
                   "); norch supports bool, uint8, int32, int64, float32 and float64");
  auto device = from_dl_device(dl.device);
  if (!device && (dl.device.device_type == kDLCUDA || dl.device.device_type == kDLCUDAManaged))
    NORCH_ERROR("from_dlpack: the tensor is on a CUDA device, but norch was built without CUDA");
  if (device && device->is_cuda())
    NORCH_CHECK(device->index < cuda::device_count(), "from_dlpack: the tensor is on cuda:", int(device->index),
                ", but ", cuda::device_count(), " CUDA device(s) are available");
  NORCH_CHECK(device, "from_dlpack: unsupported device type ", int(dl.device.device_type),
              " (norch reads kDLCPU, kDLCUDAHost and, when built with CUDA, kDLCUDA and kDLCUDAManaged)");
  NORCH_CHECK_VALUE(dl.ndim >= 0, "from_dlpack: negative ndim ", dl.ndim);
  Shape sizes(dl.ndim), strides(dl.ndim);
  int64_t numel = 1;
  for (int32_t i = 0; i < dl.ndim; ++i) {
    sizes[i] = dl.shape[i];
    NORCH_CHECK_VALUE(sizes[i] >= 0, "from_dlpack: negative size ", sizes[i], " in dimension ", i);
    numel *= sizes[i];
  }
  if (dl.strides) {
    for (int32_t i = 0; i < dl.ndim; ++i) {
      strides[i] = dl.strides[i];
      NORCH_CHECK_VALUE(strides[i] >= 0 || sizes[i] <= 1,
                        "from_dlpack: negative strides are not supported (stride ", strides[i], " in dimension ",
                        i, "); copy the array first");
      if (sizes[i] <= 1 && strides[i] < 0) strides[i] = 1;
    }
  } else {
    // NULL strides: compact row-major (DLPack >= 0.2).
    int64_t s = 1;
    for (int32_t i = dl.ndim - 1; i >= 0; --i) {
      strides[i] = s;
      s *= sizes[i] > 0 ? sizes[i] : 1;
    }
  }
  char* data = static_cast<char*>(dl.data);
  if (data) data += dl.byte_offset;
  NORCH_CHECK_VALUE(data || numel == 0, "from_dlpack: a non-empty tensor with a null data pointer");
  return from_blob(data, sizes, strides, *dtype, *device, [m](void*) {
    if (m->deleter) m->deleter(m);
  });
}

}  // namespace

DLDataType to_dl_dtype(ScalarType t) {
  for (const auto& row : kDTypes)
    if (row.type == t) return row.dl;
  NORCH_ERROR("to_dlpack: dtype ", dtype_name(t), " has no DLPack code");
}

std::optional<ScalarType> from_dl_dtype(DLDataType t) {
  if (t.lanes != 1) return std::nullopt;
  for (const auto& row : kDTypes)
    if (row.dl.code == t.code && row.dl.bits == t.bits) return row.type;
  return std::nullopt;
}

DLDevice to_dl_device(Device d) {
  if (d.is_cuda()) return DLDevice{kDLCUDA, d.index < 0 ? 0 : d.index};
  return DLDevice{kDLCPU, 0};
}

std::optional<Device> from_dl_device(DLDevice d) {
  switch (d.device_type) {
    case kDLCPU:
    case kDLCUDAHost:  // pinned host memory: the CPU reads it directly
      return Device();
    case kDLCUDA:
    case kDLCUDAManaged:
      if (!cuda::is_compiled()) return std::nullopt;
      return Device(DeviceType::CUDA, d.device_id);
    default: return std::nullopt;
  }
}

DLManagedTensor* to_dlpack(const Tensor& t) { return fill<DLManagedTensor>(t); }

DLManagedTensorVersioned* to_dlpack_versioned(const Tensor& t, uint64_t flags, DLPackVersion version) {
  DLManagedTensorVersioned* m = fill<DLManagedTensorVersioned>(t);
  m->version = version;
  m->flags = flags;
  return m;
}

Tensor from_dlpack(DLManagedTensor* m) { return wrap(m); }

Tensor from_dlpack(DLManagedTensorVersioned* m) {
  NORCH_CHECK(m != nullptr, "from_dlpack: received a null DLManagedTensorVersioned");
  NORCH_CHECK(m->version.major == DLPACK_MAJOR_VERSION, "from_dlpack: DLPack version ", m->version.major, ".",
              m->version.minor, " is not supported (norch reads major version ", DLPACK_MAJOR_VERSION, ")");
  const bool read_only = (m->flags & DLPACK_FLAG_BITMASK_READ_ONLY) != 0;
  Tensor view = wrap(m);
  // norch has no read-only tensors; a copy keeps the producer's promise that
  // nobody writes its memory (the view dies here and hands the memory back).
  return read_only ? clone(view) : view;
}

}  // namespace norch
