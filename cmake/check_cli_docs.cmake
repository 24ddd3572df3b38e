# docs/cli.md is what `iai help --markdown` prints: every command and flag,
# read from the CLI's own definitions. Run as a test:
#   cmake -DIAI_BINARY=<build>/iai -DIAI_DOCS=<repo>/docs/cli.md
#         -DIAI_GENERATED=<build>/cli.generated.md -P check_cli_docs.cmake
# Fails when the committed page differs, saying how to regenerate it.

foreach(variable IAI_BINARY IAI_DOCS IAI_GENERATED)
  if(NOT ${variable})
    message(FATAL_ERROR "pass -D${variable}=...")
  endif()
endforeach()

execute_process(COMMAND ${IAI_BINARY} help --markdown
                OUTPUT_FILE ${IAI_GENERATED}
                ERROR_VARIABLE errors
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "'${IAI_BINARY} help --markdown' failed (${status}): ${errors}")
endif()
if(NOT EXISTS ${IAI_DOCS})
  message(FATAL_ERROR "${IAI_DOCS} is missing; write it with: "
                      "${IAI_BINARY} help --markdown > ${IAI_DOCS}")
endif()

execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${IAI_DOCS} ${IAI_GENERATED}
                RESULT_VARIABLE differs)
if(differs)
  message(FATAL_ERROR
          "${IAI_DOCS} differs from what this iai prints. Regenerate it: "
          "${IAI_BINARY} help --markdown > ${IAI_DOCS} "
          "(diff -u ${IAI_DOCS} ${IAI_GENERATED} shows the difference)")
endif()
