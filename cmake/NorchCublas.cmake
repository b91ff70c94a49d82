# cuBLAS for the CUDA build: from the CUDA toolkit when it ships it (CUDA::cublas),
# else from the `nvidia-cublas` wheel (pip install nvidia-cublas), whose headers and
# libraries live under site-packages/nvidia/cu13 (cu12 wheels: nvidia/cublas).
#
# Included once from CMakeLists.txt right after the CUDA toolkit is found. The CUDA
# kernels need cuBLAS (matmul, convolution), so without it there is no CUDA build:
# under NORCH_CUDA=AUTO this turns NORCH_WITH_CUDA off with a message saying how to
# get cuBLAS; under NORCH_CUDA=ON it is a fatal error. NORCH_CUBLAS_ROOT (a folder
# with include/cublas_v2.h and lib/libcublas.so*) overrides the search.
#
# Linking and rpaths are applied to `norch` at the end of the top-level file
# (cmake_language(DEFER)), after the target and its own rpath settings exist, so
# that CMakeLists.txt needs only the include line.

set(NORCH_CUBLAS_ROOT "$ENV{NORCH_CUBLAS_ROOT}" CACHE PATH "Folder with include/cublas_v2.h and lib/libcublas.so (optional)")
set(_norch_cublas_source "")
set(NORCH_CUBLAS_RPATHS "")

if(NOT NORCH_CUBLAS_ROOT AND TARGET CUDA::cublas)
  set(_norch_cublas_source "CUDA toolkit (${CUDAToolkit_LIBRARY_DIR})")
  add_library(norch_cublas INTERFACE)
  target_link_libraries(norch_cublas INTERFACE CUDA::cublas)
  list(APPEND NORCH_CUBLAS_RPATHS "${CUDAToolkit_LIBRARY_DIR}")
else()
  # Candidate roots: the override, then the wheel next to the Python that builds us.
  set(_roots "")
  if(NORCH_CUBLAS_ROOT)
    list(APPEND _roots "${NORCH_CUBLAS_ROOT}")
  else()
    if(NOT Python_EXECUTABLE)
      find_package(Python 3.9 COMPONENTS Interpreter QUIET)
    endif()
    if(Python_EXECUTABLE)
      execute_process(
        COMMAND "${Python_EXECUTABLE}" -c "import nvidia, os; print(';'.join(os.path.join(p, s) for p in nvidia.__path__ for s in ('cu13', 'cublas')))"
        OUTPUT_VARIABLE _wheel_roots OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE _rc)
      if(_rc EQUAL 0)
        list(APPEND _roots ${_wheel_roots})
      endif()
    endif()
  endif()
  foreach(root IN LISTS _roots)
    if(EXISTS "${root}/include/cublas_v2.h")
      file(GLOB _libs "${root}/lib/libcublas.so" "${root}/lib/libcublas.so.[0-9]*")
      list(SORT _libs)
      list(LENGTH _libs _n)
      if(_n GREATER 0)
        list(GET _libs 0 _lib)   # libcublas.so if present, else the shortest versioned name
        set(_norch_cublas_source "${root}")
        add_library(norch_cublas INTERFACE)
        target_include_directories(norch_cublas INTERFACE "${root}/include")
        target_link_libraries(norch_cublas INTERFACE "${_lib}")
        # Installed wheel: site-packages/norch/libnorch.so next to site-packages/nvidia/...;
        # the absolute folder serves the developer tree (python/norch) and other layouts.
        get_filename_component(_leaf "${root}" NAME)
        get_filename_component(_parent "${root}" DIRECTORY)
        get_filename_component(_parent_leaf "${_parent}" NAME)
        list(APPEND NORCH_CUBLAS_RPATHS "\$ORIGIN/../${_parent_leaf}/${_leaf}/lib" "${root}/lib")
        break()
      endif()
    endif()
  endforeach()
endif()

if(_norch_cublas_source)
  message(STATUS "norch: cuBLAS from ${_norch_cublas_source}")
  function(_norch_link_cublas)
    if(TARGET norch)
      target_link_libraries(norch PRIVATE norch_cublas)
      set_property(TARGET norch APPEND PROPERTY INSTALL_RPATH ${NORCH_CUBLAS_RPATHS})
      set_property(TARGET norch APPEND PROPERTY BUILD_RPATH ${NORCH_CUBLAS_RPATHS})
    endif()
  endfunction()
  cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _norch_link_cublas)
else()
  if(NORCH_CUBLAS_ROOT)
    set(_why "cuBLAS was not found: NORCH_CUBLAS_ROOT=${NORCH_CUBLAS_ROOT} has no include/cublas_v2.h with lib/libcublas.so*")
  else()
    if(Python_EXECUTABLE)
      set(_py "${Python_EXECUTABLE}")
    else()
      set(_py "any Python (none was found)")
    endif()
    set(_why "cuBLAS was not found: the CUDA toolkit (${CUDAToolkit_LIBRARY_DIR}) has no libcublas and the nvidia-cublas wheel is not installed for ${_py} (pip install nvidia-cublas, or set NORCH_CUBLAS_ROOT)")
  endif()
  if(NORCH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "NORCH_CUDA=ON: ${_why}")
  endif()
  message(WARNING "norch: building without CUDA: ${_why}")
  set(NORCH_WITH_CUDA OFF)
endif()
