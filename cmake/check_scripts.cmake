# Every shell script of the project parses (bash -n). The bench, campaign and
# set-up scripts are run by hand or by CI's set-up, not by the suite, so a
# syntax error in one would otherwise show only when someone runs it.
#   cmake -DIAI_SOURCE_DIR=<project> -P cmake/check_scripts.cmake
file(GLOB scripts ${IAI_SOURCE_DIR}/scripts/*.sh ${IAI_SOURCE_DIR}/bench/*.sh
     ${IAI_SOURCE_DIR}/.ci/run)
list(LENGTH scripts count)
if(count EQUAL 0)
  message(FATAL_ERROR "scripts-syntax: no scripts found under ${IAI_SOURCE_DIR}")
endif()
set(bad "")
foreach(script IN LISTS scripts)
  execute_process(COMMAND bash -n ${script} RESULT_VARIABLE status
                  ERROR_VARIABLE error)
  if(NOT status EQUAL 0)
    string(APPEND bad "${script}: ${error}")
  endif()
endforeach()
if(bad)
  message(FATAL_ERROR "scripts-syntax: shell scripts that do not parse:\n${bad}")
endif()
message(STATUS "scripts-syntax: ${count} scripts parse")
