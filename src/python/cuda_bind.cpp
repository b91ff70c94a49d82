// norch._C._cuda: the CUDA runtime for norch.cuda (python/norch/cuda/). Never touches
// the driver at import time; streams and events travel as integer handles. Beside it,
// in norch._C, the CPU allocator's counters (norch.cpu.memory_stats), the other
// device's memory bookkeeping.
#include "convert.h"

namespace norch::python {

namespace {

py::dict stat_dict(const MemoryStat& s) {
  py::dict d;
  d["current"] = s.current;
  d["peak"] = s.peak;
  d["allocated"] = s.allocated;
  d["freed"] = s.freed;
  return d;
}

}  // namespace

void init_cuda(py::module_& m, TensorClass& cls) {
  m.def("_cpu_allocator_stats", [] {
    const CpuAllocatorStats s = cpu_allocator_stats();
    py::dict d;
    d["cache_hits"] = s.cache_hits;
    d["cache_misses"] = s.cache_misses;
    d["large_allocs"] = s.large_allocs;
    d["huge_allocs"] = s.huge_allocs;
    d["requested_bytes"] = s.requested_bytes;
    d["fresh_bytes"] = s.fresh_bytes;
    d["cached_frees"] = s.cached_frees;
    d["released_frees"] = s.released_frees;
    d["max_cached_bytes"] = cpu_allocator_max_cached_bytes();
    return d;
  });
  m.def("_cpu_allocator_reset_stats", &reset_cpu_allocator_stats);
  auto c = m.def_submodule("_cuda", "CUDA runtime queries");
  c.def("is_compiled", &cuda::is_compiled);
  c.def("is_available", &cuda::is_available);
  c.def("is_initialized", &cuda::is_initialized);
  c.def("device_count", &cuda::device_count);
  c.def("synchronize", &cuda::synchronize, py::arg("device") = -1, py::call_guard<py::gil_scoped_release>());
  c.def("current_device", &cuda::current_device);
  c.def("set_device", &cuda::set_device);
  c.def("get_device_properties", [](int device) {
    cuda::DeviceProperties p = cuda::get_device_properties(device);
    return py::make_tuple(p.name, p.total_memory, p.major, p.minor, p.multi_processor_count);
  });
  c.def("status", [] {
    auto s = cuda::status();
    return py::make_tuple(s.compiled, s.device_count, s.error_code, s.message);
  });
  // Streams and events (Note [Streams] in src/kernels/cuda/streams.cu).
  c.def("stream_create", &cuda::stream_create);
  c.def("stream_priority", &cuda::stream_priority);
  c.def("stream_query", &cuda::stream_query);
  c.def("stream_synchronize", &cuda::stream_synchronize, py::call_guard<py::gil_scoped_release>());
  c.def("stream_wait_event", &cuda::stream_wait_event);
  c.def("get_current_stream", &cuda::get_current_stream);
  c.def("set_current_stream", &cuda::set_current_stream);
  c.def("event_create", &cuda::event_create);
  c.def("event_destroy", &cuda::event_destroy);
  c.def("event_record", &cuda::event_record);
  c.def("event_query", &cuda::event_query);
  c.def("event_synchronize", &cuda::event_synchronize, py::call_guard<py::gil_scoped_release>());
  c.def("event_elapsed_time", &cuda::event_elapsed_time);
  // Note [record_stream]: the storage's block waits for `stream` before it is reused.
  cls.def(
      "record_stream",
      [](const Tensor& self, py::handle stream) {
        NORCH_CHECK_TYPE(py::hasattr(stream, "cuda_stream"), "record_stream(): argument 'stream' must be Stream, not ",
                         py::str(py::type::of(stream).attr("__name__")).cast<std::string>());
        const Device d = self.device();
        if (!d.is_cuda())
          NORCH_NOT_IMPLEMENTED("Could not run 'aten::record_stream' with arguments from the '",
                                d.is_cpu() ? "CPU" : d.str(), "' backend: record_stream is for CUDA tensors");
        cuda::record_stream(self.impl()->storage->data, d.index,
                            stream.attr("cuda_stream").cast<cuda::StreamHandle>());
      },
      py::arg("stream"),
      "Marks the tensor's memory as used by `stream`: once freed, the caching allocator does not\n"
      "reuse it until the work queued on that stream at the time of the free has finished.");
  // The caching allocator.
  c.def("memory_allocated", &cuda::memory_allocated);
  c.def("memory_reserved", &cuda::memory_reserved);
  c.def("empty_cache", &cuda::empty_cache);
  c.def("reset_peak_memory_stats", &cuda::reset_peak_memory_stats);
  c.def("memory_stats", [](int device) {
    AllocatorStats s = cuda::memory_stats(device);
    py::dict d;
    d["allocated_bytes"] = stat_dict(s.allocated_bytes);
    d["reserved_bytes"] = stat_dict(s.reserved_bytes);
    d["active_bytes"] = stat_dict(s.active_bytes);
    d["requested_bytes"] = stat_dict(s.requested_bytes);
    d["allocation"] = stat_dict(s.allocation);
    d["segment"] = stat_dict(s.segment);
    d["inactive_split"] = stat_dict(s.inactive_split);
    d["inactive_split_bytes"] = stat_dict(s.inactive_split_bytes);
    d["num_alloc_retries"] = s.num_alloc_retries;
    d["num_ooms"] = s.num_ooms;
    d["num_device_alloc"] = s.num_device_alloc;
    d["num_device_free"] = s.num_device_free;
    return d;
  });
}

}  // namespace norch::python
