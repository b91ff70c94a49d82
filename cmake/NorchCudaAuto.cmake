# NORCH_CUDA=AUTO: decides whether this machine gets the CUDA kernels.
#
# Note [CUDA AUTO]: compiling the CUDA kernels for three architectures is most of a
# clean build on a small machine (9.5 of 11.5 minutes of a newcomer's first
# `pip install .` on the 2-core machine, where nvcc was installed but no GPU). A
# PyTorch user on a CPU-only machine expects the CPU package there, so AUTO builds
# CUDA only when all three are present: nvcc, cuBLAS (the toolkit's or the
# nvidia-cublas wheel's cublas_v2.h) and a GPU driver (libcuda, /dev/nvidiactl or
# nvidia-smi). NORCH_CUDA=ON builds CUDA regardless (a build machine without a GPU
# for a GPU machine, CI's compile check); OFF never does.
#
# Sets NORCH_CUDA_AUTO_OK (TRUE/FALSE) and NORCH_CUDA_AUTO_WHY (what was missing).

set(NORCH_CUDA_AUTO_OK TRUE)
set(NORCH_CUDA_AUTO_WHY "")

# 1. nvcc: CUDACXX, PATH, or the usual toolkit location (CMake searches PATH only).
set(_nvcc "$ENV{CUDACXX}")
if(NOT _nvcc)
  find_program(_nvcc_found nvcc PATHS /usr/local/cuda/bin NO_CACHE)
  set(_nvcc "${_nvcc_found}")
endif()
if(NOT _nvcc OR NOT EXISTS "${_nvcc}")
  set(NORCH_CUDA_AUTO_OK FALSE)
  list(APPEND NORCH_CUDA_AUTO_WHY "no nvcc")
endif()

# 2. A GPU driver: the library the CUDA runtime loads, or the device node, or its tool.
find_library(_libcuda NAMES cuda libcuda.so.1
  PATHS /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/lib/wsl/lib
  NO_CACHE)
find_program(_nvidia_smi nvidia-smi NO_CACHE)
if(NOT _libcuda AND NOT EXISTS /dev/nvidiactl AND NOT _nvidia_smi)
  set(NORCH_CUDA_AUTO_OK FALSE)
  list(APPEND NORCH_CUDA_AUTO_WHY "no GPU driver (libcuda, /dev/nvidiactl, nvidia-smi)")
endif()

# 3. cuBLAS headers: beside nvcc's toolkit, under NORCH_CUBLAS_ROOT, or from the wheel.
set(_cublas FALSE)
if(_nvcc)
  get_filename_component(_cuda_root "${_nvcc}" DIRECTORY)
  get_filename_component(_cuda_root "${_cuda_root}" DIRECTORY)
  if(EXISTS "${_cuda_root}/include/cublas_v2.h")
    set(_cublas TRUE)
  endif()
endif()
if(NOT _cublas AND DEFINED ENV{NORCH_CUBLAS_ROOT} AND EXISTS "$ENV{NORCH_CUBLAS_ROOT}/include/cublas_v2.h")
  set(_cublas TRUE)
endif()
if(NOT _cublas)
  find_package(Python 3.9 COMPONENTS Interpreter QUIET)
  if(Python_EXECUTABLE)
    execute_process(
      COMMAND "${Python_EXECUTABLE}" -c "import nvidia, os, sys; sys.exit(0 if any(os.path.exists(os.path.join(p, s, 'include', 'cublas_v2.h')) for p in nvidia.__path__ for s in ('cu13', 'cublas')) else 1)"
      RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
    if(_rc EQUAL 0)
      set(_cublas TRUE)
    endif()
  endif()
endif()
if(NOT _cublas)
  set(NORCH_CUDA_AUTO_OK FALSE)
  list(APPEND NORCH_CUDA_AUTO_WHY "no cuBLAS (CUDA toolkit's or pip install nvidia-cublas)")
endif()
list(JOIN NORCH_CUDA_AUTO_WHY "; " NORCH_CUDA_AUTO_WHY)
