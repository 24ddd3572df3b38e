# The library's layering, checked: each folder of src/iai may include only
# its own headers and those of the folders listed before it (docs/architecture.md).
# Run as a test: cmake -DIAI_SOURCE_DIR=<repo>/src/iai -P check_layers.cmake
# Fails naming every upward include and every folder missing from the order.

set(IAI_LAYERS core parallel dist nn data report model inference objectives train
    analysis)

if(NOT IAI_SOURCE_DIR)
  message(FATAL_ERROR "pass -DIAI_SOURCE_DIR=<repo>/src/iai")
endif()

set(violations "")
file(GLOB folders LIST_DIRECTORIES true RELATIVE ${IAI_SOURCE_DIR}
     ${IAI_SOURCE_DIR}/*)
foreach(folder IN LISTS folders)
  if(IS_DIRECTORY ${IAI_SOURCE_DIR}/${folder})
    list(FIND IAI_LAYERS ${folder} rank)
    if(rank EQUAL -1)
      string(APPEND violations
             "\n  src/iai/${folder}/ is not in the layer order (add it to "
             "cmake/check_layers.cmake and docs/architecture.md)")
    endif()
  endif()
endforeach()

foreach(layer IN LISTS IAI_LAYERS)
  list(FIND IAI_LAYERS ${layer} rank)
  file(GLOB sources ${IAI_SOURCE_DIR}/${layer}/*.h
       ${IAI_SOURCE_DIR}/${layer}/*.cpp)
  foreach(source IN LISTS sources)
    file(STRINGS ${source} includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"iai/")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE ".*\"iai/([^/\"]+)/.*" "\\1" used "${line}")
      list(FIND IAI_LAYERS ${used} used_rank)
      if(used_rank GREATER rank OR used_rank EQUAL -1)
        file(RELATIVE_PATH where ${IAI_SOURCE_DIR} ${source})
        string(STRIP "${line}" line)
        string(APPEND violations
               "\n  src/iai/${where}: ${line} (${layer} may use only the "
               "folders before it)")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations)
  message(FATAL_ERROR "layering violations (order: ${IAI_LAYERS}):"
                      "${violations}")
endif()
list(JOIN IAI_LAYERS " < " order)
message(STATUS "layering holds: ${order}")
