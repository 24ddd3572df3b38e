# The layering check itself, on planted trees: it must pass a tree that keeps
# the order, and fail, naming the file, on an upward include from a
# subfolder layer (train/optim -> train/step), from a file deeper than any
# layer (train/optim/rows/ -> train/checkpoint) and on a folder in no layer.
# cmake -DIAI_SOURCE_DIR=<repo> -DIAI_WORK_DIR=<dir> -P check_layers_test.cmake

foreach(v IAI_SOURCE_DIR IAI_WORK_DIR)
  if(NOT ${v})
    message(FATAL_ERROR "pass -D${v}=...")
  endif()
endforeach()

function(check_tree name expect_failure expected_text)
  set(root ${IAI_WORK_DIR}/${name}/iai)
  execute_process(COMMAND ${CMAKE_COMMAND} -DIAI_SOURCE_DIR=${root}
                          -P ${IAI_SOURCE_DIR}/cmake/check_layers.cmake
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(expect_failure AND rc EQUAL 0)
    message(FATAL_ERROR "${name}: the check passed a tree it must fail:\n${out}${err}")
  endif()
  if(NOT expect_failure AND NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: the check failed a tree that keeps the order:\n${err}")
  endif()
  string(FIND "${out}${err}" "${expected_text}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${name}: expected '${expected_text}' in:\n${out}${err}")
  endif()
  message(STATUS "${name}: as expected")
endfunction()

function(plant name file text)
  file(WRITE ${IAI_WORK_DIR}/${name}/iai/${file} "${text}\n")
endfunction()

file(REMOVE_RECURSE ${IAI_WORK_DIR})
foreach(tree good upward deep unknown)
  plant(${tree} core/error.h "#pragma once")
  plant(${tree} train/step/train_batch.h "#include \"iai/train/optim/optimizers.h\"")
  plant(${tree} train/optim/optimizers.h "#include \"iai/core/error.h\"")
  plant(${tree} train/checkpoint/checkpoint.h "#include \"iai/train/step/train_batch.h\"")
  plant(${tree} train/trainer.cpp "#include \"iai/train/checkpoint/checkpoint.h\"")
endforeach()
plant(upward train/optim/fused_adam.cpp "#include \"iai/train/step/train_batch.h\"")
plant(deep train/optim/rows/adam_rows.cpp "  #  include \"iai/train/checkpoint/checkpoint.h\"")
plant(unknown extras/thing.h "#pragma once")

check_tree(good FALSE "layering holds")
check_tree(upward TRUE "src/iai/train/optim/fused_adam.cpp: #include \"iai/train/step/train_batch.h\"")
check_tree(deep TRUE "src/iai/train/optim/rows/adam_rows.cpp")
check_tree(unknown TRUE "src/iai/extras/ is not in the layer order")
