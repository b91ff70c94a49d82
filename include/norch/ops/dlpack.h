// norch/ops/dlpack.h — the DLPack exchange structs and norch's converters.
//
// The struct layouts follow the DLPack specification, version 1.1
// (https://dmlc.github.io/dlpack/latest/, the stable public C ABI that NumPy,
// PyTorch, CuPy and JAX exchange). They are written out here so that norch needs
// no extra dependency; the guard is the official header's, so a translation unit
// that includes both sees one definition.
#pragma once
#include <cstdint>
#include <optional>

#ifndef DLPACK_DLPACK_H_
#define DLPACK_DLPACK_H_

#define DLPACK_MAJOR_VERSION 1
#define DLPACK_MINOR_VERSION 1

extern "C" {

typedef struct {
  uint32_t major;
  uint32_t minor;
} DLPackVersion;

typedef enum {
  kDLCPU = 1,
  kDLCUDA = 2,
  kDLCUDAHost = 3,
  kDLOpenCL = 4,
  kDLVulkan = 7,
  kDLMetal = 8,
  kDLVPI = 9,
  kDLROCM = 10,
  kDLROCMHost = 11,
  kDLExtDev = 12,
  kDLCUDAManaged = 13,
  kDLOneAPI = 14,
  kDLWebGPU = 15,
  kDLHexagon = 16,
  kDLMAIA = 17,
} DLDeviceType;

typedef struct {
  DLDeviceType device_type;
  int32_t device_id;
} DLDevice;

typedef enum {
  kDLInt = 0U,
  kDLUInt = 1U,
  kDLFloat = 2U,
  kDLOpaqueHandle = 3U,
  kDLBfloat = 4U,
  kDLComplex = 5U,
  kDLBool = 6U,
} DLDataTypeCode;

typedef struct {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
} DLDataType;

typedef struct {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; NULL means compact row-major
  uint64_t byte_offset;
} DLTensor;

typedef struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(struct DLManagedTensor* self);
} DLManagedTensor;

#define DLPACK_FLAG_BITMASK_READ_ONLY (1UL << 0UL)
#define DLPACK_FLAG_BITMASK_IS_COPIED (1UL << 1UL)
#define DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED (1UL << 2UL)

typedef struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(struct DLManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
} DLManagedTensorVersioned;

}  // extern "C"

#endif  // DLPACK_DLPACK_H_

#include "norch/tensor/tensor.h"

namespace norch {

// dtype and device correspondence. from_dl_* return nullopt for what norch lacks.
DLDataType to_dl_dtype(ScalarType t);
std::optional<ScalarType> from_dl_dtype(DLDataType t);
DLDevice to_dl_device(Device d);
std::optional<Device> from_dl_device(DLDevice d);

// Export: a managed tensor viewing t's memory (shape, strides and offset kept).
// It holds a reference to t's Storage, so the memory outlives every norch view
// until the consumer calls the deleter; the deleter needs no lock or GIL.
DLManagedTensor* to_dlpack(const Tensor& t);
DLManagedTensorVersioned* to_dlpack_versioned(const Tensor& t, uint64_t flags = 0,
                                              DLPackVersion version = {DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION});

// Import: a tensor over the producer's memory. On success it owns `m`: the
// producer's deleter runs when the last norch view of that memory dies. When the
// tensor cannot be represented (device, dtype, lanes, negative strides, a major
// version norch does not know), it throws and `m` stays the caller's.
Tensor from_dlpack(DLManagedTensor* m);
Tensor from_dlpack(DLManagedTensorVersioned* m);

}  // namespace norch
