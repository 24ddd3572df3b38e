# The `vendored-build` test: a GPU machine's build path, checked on this one.
# Copies the dependencies into a fresh vendor folder (scripts/vendor-deps.sh),
# configures with IAI_ONLY_VENDORED=ON (installed CLI11, nlohmann-json, stb,
# zlib headers and GTest ignored), without matio, and builds GoogleTest from
# the vendored sources. Fails naming the step that failed.
#   cmake -DIAI_SOURCE_DIR=<repo> -DIAI_WORK_DIR=<scratch> -DTorch_DIR=<dir>
#         [-DIAI_GENERATOR=<generator>] -P vendored_build_test.cmake

foreach(var IAI_SOURCE_DIR IAI_WORK_DIR Torch_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "pass -D${var}=...")
  endif()
endforeach()
if(NOT IAI_GENERATOR)
  set(IAI_GENERATOR "Unix Makefiles")
endif()

file(REMOVE_RECURSE ${IAI_WORK_DIR})
set(vendor ${IAI_WORK_DIR}/vendor)
set(build ${IAI_WORK_DIR}/build)

function(step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "vendored build: ${name} failed (${rc}):\n${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step("scripts/vendor-deps.sh" bash ${IAI_SOURCE_DIR}/scripts/vendor-deps.sh
     --out ${vendor})
step("configure" ${CMAKE_COMMAND} -S ${IAI_SOURCE_DIR} -B ${build}
     -G ${IAI_GENERATOR} -DCMAKE_BUILD_TYPE=Release -DTorch_DIR=${Torch_DIR}
     -DIAI_VENDOR_DIR=${vendor} -DIAI_ONLY_VENDORED=ON -DIAI_WITH_MATIO=OFF
     -DIAI_BUILD_BENCH=OFF)
foreach(expected
    "iai: CLI11::CLI11 from ${vendor}/include"
    "iai: nlohmann_json::nlohmann_json from ${vendor}/include"
    "iai: zlib headers from ${vendor}/include"
    "iai: without matio"
    "iai: GoogleTest built from ${vendor}/googletest")
  string(FIND "${step_output}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "vendored build: the configure output lacks "
                        "'${expected}':\n${step_output}")
  endif()
endforeach()
file(STRINGS ${build}/CMakeCache.txt stb REGEX "^STB_INCLUDE_DIR:")
if(NOT stb MATCHES "${vendor}/include")
  message(FATAL_ERROR "vendored build: stb not taken from ${vendor}: ${stb}")
endif()
# GoogleTest from the vendored sources (no LibTorch header: seconds).
step("building gtest from sources" ${CMAKE_COMMAND} --build ${build}
     --target gtest_main)
message(STATUS "vendored build: configured without installed header-only "
               "packages or matio, and built GoogleTest from its sources")
