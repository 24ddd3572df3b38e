# The `installed-package` test: installs this build into a fresh prefix,
# trains a tiny run with the installed CLI, then configures, builds and runs
# tests/install_consumer (find_package(iai), iai::iai) against that prefix.
# Fails naming the step that failed.
#   cmake -DIAI_SOURCE_DIR=<repo> -DIAI_BUILD_DIR=<build> -DIAI_WORK_DIR=<scratch>
#         [-DIAI_GENERATOR=<generator>] [-DIAI_PREFIX_PATH=<LibTorch prefix>]
#         -P install_consumer_test.cmake

foreach(var IAI_SOURCE_DIR IAI_BUILD_DIR IAI_WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "pass -D${var}=...")
  endif()
endforeach()
if(NOT IAI_GENERATOR)
  set(IAI_GENERATOR "Unix Makefiles")
endif()

file(REMOVE_RECURSE ${IAI_WORK_DIR})
set(prefix ${IAI_WORK_DIR}/prefix)

function(step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "installed package: ${name} failed (${rc}):\n${out}")
  endif()
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step("cmake --install" ${CMAKE_COMMAND} --install ${IAI_BUILD_DIR}
     --prefix ${prefix})
foreach(file bin/iai lib/libiai.a include/iai/analysis/loaded_run.h
        lib/cmake/iai/iaiConfig.cmake lib/cmake/iai/iaiConfigVersion.cmake
        lib/cmake/iai/iaiTargets.cmake)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "installed package: ${prefix}/${file} is missing")
  endif()
endforeach()
if(EXISTS ${prefix}/include/iai/pch.h)
  message(FATAL_ERROR "installed package: the build's pch.h was installed")
endif()

# A tiny run, trained by the installed CLI on synthetic MNIST-shaped data.
step("synthetic data" python3 ${IAI_SOURCE_DIR}/scripts/synthetic-data.py
     mnist ${IAI_WORK_DIR}/data --train 64 --test 16)
step("iai train" ${prefix}/bin/iai train --data-dir ${IAI_WORK_DIR}/data
     --latent 4 --encoder-hidden 16 --decoder-hidden 16 --batch-size 16
     --epochs 1 --threads 1 --iterations 2 --samples 2
     --out ${IAI_WORK_DIR}/run)

set(prefix_path ${prefix})
if(IAI_PREFIX_PATH)
  list(APPEND prefix_path ${IAI_PREFIX_PATH})
endif()
string(REPLACE ";" "\\;" prefix_path "${prefix_path}")
step("configure the consumer" ${CMAKE_COMMAND}
     -S ${IAI_SOURCE_DIR}/tests/install_consumer -B ${IAI_WORK_DIR}/consumer
     -G ${IAI_GENERATOR} -DCMAKE_BUILD_TYPE=Release
     "-DCMAKE_PREFIX_PATH=${prefix_path}")
step("build the consumer" ${CMAKE_COMMAND} --build ${IAI_WORK_DIR}/consumer)
step("run the consumer" ${IAI_WORK_DIR}/consumer/iai_consumer
     ${IAI_WORK_DIR}/run)
if(NOT step_output MATCHES "ELBO per iteration \\(example 0\\): -[0-9.]+ -[0-9.]+\nok")
  message(FATAL_ERROR "installed package: unexpected output:\n${step_output}")
endif()
message(STATUS "installed package: built and ran a find_package(iai) "
               "program:\n${step_output}")
