// DLPack from C++: export fills the struct as the spec lays it out and holds the
// storage until the deleter runs; import wraps a producer's memory without a
// copy and hands it back exactly once, when the last view dies; refused imports
// leave the managed tensor to the caller.
#include <gtest/gtest.h>

#include "test_helpers.h"

using namespace norch;
using norch::testing::from_vector;
using norch::testing::to_vector;

TEST(DLPack, ExportDescribesAStridedView) {
  Tensor base = reshape(arange(Scalar(0), Scalar(12), Scalar(1), TensorOptions(ScalarType::Float64)), {3, 4});
  Tensor v = slice(transpose(base, 0, 1), 0, 1, 4, 2);  // shape (2, 3), strides (2, 4), offset 1
  DLManagedTensor* m = to_dlpack(v);
  const DLTensor& dl = m->dl_tensor;
  EXPECT_EQ(dl.device.device_type, kDLCPU);
  EXPECT_EQ(dl.dtype.code, kDLFloat);
  EXPECT_EQ(dl.dtype.bits, 64);
  EXPECT_EQ(dl.dtype.lanes, 1);
  ASSERT_EQ(dl.ndim, 2);
  EXPECT_EQ(v.storage_offset(), 1);
  EXPECT_EQ(dl.shape[0], 2);
  EXPECT_EQ(dl.shape[1], 3);
  EXPECT_EQ(dl.strides[0], v.stride(0));
  EXPECT_EQ(dl.strides[1], v.stride(1));
  EXPECT_EQ(static_cast<char*>(dl.data) + dl.byte_offset, v.data_ptr());
  m->deleter(m);
}

TEST(DLPack, ExportKeepsTheStorageUntilTheDeleter) {
  Tensor t = from_vector({1.0, 2.0, 3.0}, {3}, ScalarType::Float64);
  std::weak_ptr<StorageImpl> storage = t.impl()->storage;
  DLManagedTensorVersioned* m = to_dlpack_versioned(t, DLPACK_FLAG_BITMASK_IS_COPIED);
  EXPECT_EQ(m->version.major, 1u);
  EXPECT_EQ(m->flags, DLPACK_FLAG_BITMASK_IS_COPIED);
  t = Tensor();
  ASSERT_FALSE(storage.expired());
  EXPECT_EQ(static_cast<double*>(m->dl_tensor.data)[2], 3.0);
  m->deleter(m);
  EXPECT_TRUE(storage.expired());
}

TEST(DLPack, RoundTripSharesMemoryAndDeletesOnce) {
  Tensor t = from_vector({1.0, 2.0, 3.0, 4.0}, {2, 2}, ScalarType::Float64);
  Tensor u = from_dlpack(to_dlpack(t));
  EXPECT_EQ(u.data_ptr(), t.data_ptr());
  EXPECT_EQ(u.sizes(), t.sizes());
  std::weak_ptr<StorageImpl> storage = t.impl()->storage;
  t = Tensor();
  EXPECT_FALSE(storage.expired());  // u's storage deleter still holds the export
  u = Tensor();
  EXPECT_TRUE(storage.expired());
}

TEST(DLPack, EveryDtypeMapsBothWays) {
  for (int i = 0; i < kNumScalarTypes; ++i) {
    auto t = static_cast<ScalarType>(i);
    auto back = from_dl_dtype(to_dl_dtype(t));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, t);
  }
  EXPECT_FALSE(from_dl_dtype(DLDataType{kDLInt, 8, 1}).has_value());
  EXPECT_FALSE(from_dl_dtype(DLDataType{kDLFloat, 32, 4}).has_value());
}

TEST(DLPack, RefusedImportLeavesOwnershipWithTheCaller) {
  Tensor t = from_vector({1.0, 2.0}, {2}, ScalarType::Float64);
  DLManagedTensor* m = to_dlpack(t);
  m->dl_tensor.dtype = DLDataType{kDLComplex, 128, 1};
  EXPECT_THROW(from_dlpack(m), Error);
  m->dl_tensor.dtype = DLDataType{kDLFloat, 64, 1};
  m->dl_tensor.device.device_type = kDLOpenCL;
  EXPECT_THROW(from_dlpack(m), Error);
  m->deleter(m);  // still ours: no double free, no leak under ASan

  DLManagedTensorVersioned* v = to_dlpack_versioned(t, 0, DLPackVersion{2, 0});
  EXPECT_THROW(from_dlpack(v), Error);
  v->deleter(v);
}

TEST(DLPack, ReadOnlyImportIsACopy) {
  Tensor t = from_vector({5.0, 6.0}, {2}, ScalarType::Float64);
  std::weak_ptr<StorageImpl> storage = t.impl()->storage;
  Tensor u = from_dlpack(to_dlpack_versioned(t, DLPACK_FLAG_BITMASK_READ_ONLY));
  EXPECT_NE(u.data_ptr(), t.data_ptr());
  EXPECT_EQ(to_vector(u), (std::vector<double>{5.0, 6.0}));
  t = Tensor();
  EXPECT_TRUE(storage.expired());  // the copy released the producer at once
}

TEST(DLPack, EmptyAndZeroDim) {
  Tensor e = empty({0, 3}, TensorOptions(ScalarType::Float32));
  Tensor u = from_dlpack(to_dlpack(e));
  EXPECT_EQ(u.sizes(), (Shape{0, 3}));
  EXPECT_EQ(u.impl()->storage->nbytes, 0u);
  Tensor s = from_dlpack(to_dlpack(scalar_tensor(Scalar(2.5), TensorOptions(ScalarType::Float64))));
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item().to_double(), 2.5);
}
