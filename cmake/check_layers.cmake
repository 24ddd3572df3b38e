# The library's layering, checked: each folder of src/iai may include only
# its own headers and those of the folders listed before it (docs/architecture.md).
# Subfolders count: a layer may be a subfolder (train/optim), and a file
# belongs to the deepest layer its path lies in, so train/optim/ may not
# include train/step/, while train/ itself (the loop) may include all four.
# Run as a test: cmake -DIAI_SOURCE_DIR=<repo>/src/iai -P check_layers.cmake
# Fails naming every upward include and every folder missing from the order.

set(IAI_LAYERS core cpu parallel dist nn data report model inference objectives
    train/optim train/step train/config train/checkpoint train analysis)

if(NOT IAI_SOURCE_DIR)
  message(FATAL_ERROR "pass -DIAI_SOURCE_DIR=<repo>/src/iai")
endif()

# The rank of the deepest layer containing PATH (a path under src/iai), or -1.
function(layer_rank path out)
  set(best -1)
  set(best_length 0)
  foreach(layer IN LISTS IAI_LAYERS)
    string(LENGTH "${layer}/" length)
    string(SUBSTRING "${path}/" 0 ${length} head)
    if(head STREQUAL "${layer}/" AND length GREATER best_length)
      list(FIND IAI_LAYERS ${layer} best)
      set(best_length ${length})
    endif()
  endforeach()
  set(${out} ${best} PARENT_SCOPE)
endfunction()

set(violations "")
# Every folder, at any depth, must lie in a layer.
file(GLOB_RECURSE entries LIST_DIRECTORIES true RELATIVE ${IAI_SOURCE_DIR}
     ${IAI_SOURCE_DIR}/*)
foreach(entry IN LISTS entries)
  if(IS_DIRECTORY ${IAI_SOURCE_DIR}/${entry})
    layer_rank(${entry} rank)
    if(rank EQUAL -1)
      string(APPEND violations
             "\n  src/iai/${entry}/ is not in the layer order (add it to "
             "cmake/check_layers.cmake and docs/architecture.md)")
    endif()
  endif()
endforeach()

file(GLOB_RECURSE sources RELATIVE ${IAI_SOURCE_DIR} ${IAI_SOURCE_DIR}/*.h
     ${IAI_SOURCE_DIR}/*.cpp)
foreach(source IN LISTS sources)
  get_filename_component(folder ${source} DIRECTORY)
  if(folder STREQUAL "")
    continue()  # pch.h: the precompiled header, no layer
  endif()
  layer_rank(${folder} rank)
  list(GET IAI_LAYERS ${rank} layer)
  file(STRINGS ${IAI_SOURCE_DIR}/${source} includes
       REGEX "^[ \t]*#[ \t]*include[ \t]+\"iai/")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE ".*\"iai/([^\"]+)/[^/\"]+\".*" "\\1" used "${line}")
    layer_rank(${used} used_rank)
    if(used_rank GREATER rank OR used_rank EQUAL -1)
      string(STRIP "${line}" line)
      string(APPEND violations
             "\n  src/iai/${source}: ${line} (${layer} may use only the "
             "layers before it)")
    endif()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "layering violations (order: ${IAI_LAYERS}):"
                      "${violations}")
endif()
list(JOIN IAI_LAYERS " < " order)
message(STATUS "layering holds: ${order}")
