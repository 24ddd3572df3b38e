# The docs lint: the project speaks of itself (what the code does, how to use
# it, what was measured and how), and its documentation's links resolve.
# Run as a test: cmake -DIAI_SOURCE_DIR=<repo> -P check_docs.cmake
#
# Fails, naming file:line, when README.md, docs/*.md or a text file under
# src/ apps/ tests/ bench/ scripts/ configs/ cmake/ fuzz/ (or CMakeLists.txt)
#   - cites a reference file that is not in the repository (docs/reference.md
#     is the project's own);
#   - names an issue by number ("issue 12", "Issue #3");
#   - uses the word "session" as narrative of the work; the word inside an
#     identifier (session_id, TCPStoreSession) does not count, nor do the
#     phrases of kIaiAllowedSessionPhrases below (operating-system uses);
#   - states an acceptance target ("target <= 15 s");
# when README.md has more than kIaiReadmeMaxLines lines; and when a relative
# link in README.md or docs/*.md names a file or a heading anchor that does
# not exist.

cmake_minimum_required(VERSION 3.18)  # list() keeps empty lines
if(NOT IAI_SOURCE_DIR)
  message(FATAL_ERROR "pass -DIAI_SOURCE_DIR=<repo>")
endif()
get_filename_component(root "${IAI_SOURCE_DIR}" ABSOLUTE)

set(kIaiReadmeMaxLines 160)
# Whole-word "session" is allowed inside these phrases only.
set(kIaiAllowedSessionPhrases
    "login session" "terminal session" "SSH session" "ssh session"
    "tmux session" "screen session" "session leader" "new session")
# Pages that are generated or written apart from the rest (docs/cli.md by
# `iai help --markdown`); a link to one is checked once the page exists.
set(kIaiPagesCheckedWhenPresent
    docs/cli.md docs/python.md docs/results.md docs/reproduce.md)

# The patterns are assembled from parts so that this file does not match
# itself.
set(ref_word "REFERENCE")
set(pattern_reference "${ref_word}\\.md")
set(pattern_issue "[Ii][Ss][Ss][Uu][Ee][ \t]*#?[0-9]")
set(sess_word "[Ss][Ee][Ss][Ss][Ii][Oo][Nn]")
set(pattern_session "(^|[^A-Za-z0-9_])${sess_word}[Ss]?([^A-Za-z0-9_]|$)")
set(pattern_target "[Tt]arget[ \t]*(≤|≥|<=|>=)")

set(problems "")

# Reads `file` into `out_var` as a list of its lines, empty lines kept.
# Semicolons and square brackets (which CMake's list splitting treats
# specially) come back as they were through iai_line().
function(iai_read_lines file out_var)
  file(READ "${file}" text)
  string(REPLACE "\r" "" text "${text}")
  string(REPLACE ";" "<IAI_SEMICOLON>" text "${text}")
  string(REPLACE "[" "<IAI_OPEN>" text "${text}")
  string(REPLACE "]" "<IAI_CLOSE>" text "${text}")
  string(REPLACE "\n" ";" text "${text}")
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

function(iai_line raw out)
  string(REPLACE "<IAI_SEMICOLON>" ";" text "${raw}")
  string(REPLACE "<IAI_OPEN>" "[" text "${text}")
  string(REPLACE "<IAI_CLOSE>" "]" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# --- the words ---------------------------------------------------------------
file(GLOB docs_pages RELATIVE "${root}" "${root}/docs/*.md")
set(checked README.md CMakeLists.txt ${docs_pages})
foreach(folder src apps tests bench scripts configs cmake fuzz)
  foreach(ext h hpp cpp cc py sh cmake toml txt supp md gp)
    file(GLOB_RECURSE found RELATIVE "${root}" "${root}/${folder}/*.${ext}")
    list(APPEND checked ${found})
  endforeach()
endforeach()
list(REMOVE_DUPLICATES checked)
list(REMOVE_ITEM checked cmake/check_docs.cmake)
list(SORT checked)

foreach(rel IN LISTS checked)
  if(NOT EXISTS "${root}/${rel}")
    continue()
  endif()
  iai_read_lines("${root}/${rel}" lines)
  set(number 0)
  foreach(raw IN LISTS lines)
    math(EXPR number "${number} + 1")
    iai_line("${raw}" line)
    set(why "")
    if(line MATCHES "${pattern_reference}")
      set(why "cites a reference file outside the repository (cite docs/reference.md)")
    elseif(line MATCHES "${pattern_issue}")
      set(why "names an issue by number (say what the code does instead)")
    elseif(line MATCHES "${pattern_target}")
      set(why "states an acceptance target (state what was measured)")
    else()
      set(rest "${line}")
      foreach(phrase IN LISTS kIaiAllowedSessionPhrases)
        string(REPLACE "${phrase}" "" rest "${rest}")
      endforeach()
      if(rest MATCHES "${pattern_session}")
        set(why "narrates how the project was made ('session')")
      endif()
    endif()
    if(why)
      string(STRIP "${line}" shown)
      string(LENGTH "${shown}" length)
      if(length GREATER 100)
        string(SUBSTRING "${shown}" 0 100 shown)
        string(APPEND shown "...")
      endif()
      string(APPEND problems "\n  ${rel}:${number}: ${why}: ${shown}")
    endif()
  endforeach()
endforeach()

# --- README's length ---------------------------------------------------------
if(EXISTS "${root}/README.md")
  iai_read_lines("${root}/README.md" readme)
  list(LENGTH readme readme_lines)
  # A final newline leaves one empty element after the last line.
  list(GET readme -1 last)
  if(last STREQUAL "")
    math(EXPR readme_lines "${readme_lines} - 1")
  endif()
  if(readme_lines GREATER kIaiReadmeMaxLines)
    string(APPEND problems "\n  README.md:${readme_lines}: README.md has "
           "${readme_lines} lines, more than ${kIaiReadmeMaxLines} (move "
           "detail to docs/)")
  endif()
endif()

# --- links ---------------------------------------------------------------
# The GitHub anchors of the headings of markdown file `file`.
function(iai_anchors file out_var)
  iai_read_lines("${file}" lines)
  set(anchors "")
  set(fenced FALSE)
  foreach(raw IN LISTS lines)
    iai_line("${raw}" line)
    if(line MATCHES "^```")
      if(fenced)
        set(fenced FALSE)
      else()
        set(fenced TRUE)
      endif()
      continue()
    endif()
    if(fenced OR NOT line MATCHES "^#+[ \t]+(.*)$")
      continue()
    endif()
    string(STRIP "${CMAKE_MATCH_1}" title)
    string(TOLOWER "${title}" anchor)
    string(REGEX REPLACE "[^a-z0-9 _-]" "" anchor "${anchor}")
    string(REPLACE " " "-" anchor "${anchor}")
    list(APPEND anchors "${anchor}")
  endforeach()
  set(${out_var} "${anchors}" PARENT_SCOPE)
endfunction()

set(linking README.md ${docs_pages})
foreach(rel IN LISTS linking)
  get_filename_component(dir "${root}/${rel}" DIRECTORY)
  iai_read_lines("${root}/${rel}" lines)
  set(number 0)
  set(fenced FALSE)
  foreach(raw IN LISTS lines)
    math(EXPR number "${number} + 1")
    iai_line("${raw}" line)
    if(line MATCHES "^```")
      if(fenced)
        set(fenced FALSE)
      else()
        set(fenced TRUE)
      endif()
      continue()
    endif()
    if(fenced)
      continue()
    endif()
    # Inline code is not a link.
    string(REGEX REPLACE "`[^`]*`" "" line "${line}")
    # A link is "](target)"; the bracket goes before matching, as CMake's
    # lists treat square brackets specially.
    string(REPLACE "](" "<IAI_LINK>(" line "${line}")
    string(REGEX MATCHALL "<IAI_LINK>\\([^) \t]+\\)" links "${line}")
    foreach(link IN LISTS links)
      string(REGEX REPLACE "^<IAI_LINK>\\((.*)\\)$" "\\1" target "${link}")
      if(target MATCHES "^[a-zA-Z][a-zA-Z0-9+.-]*:")
        continue()  # http:, https:, mailto:
      endif()
      set(path "${target}")
      set(anchor "")
      if(target MATCHES "^([^#]*)#(.*)$")
        set(path "${CMAKE_MATCH_1}")
        set(anchor "${CMAKE_MATCH_2}")
      endif()
      if(path STREQUAL "")
        set(file "${root}/${rel}")
      else()
        get_filename_component(file "${dir}/${path}" ABSOLUTE)
      endif()
      file(RELATIVE_PATH file_rel "${root}" "${file}")
      if(NOT EXISTS "${file}")
        list(FIND kIaiPagesCheckedWhenPresent "${file_rel}" pending)
        if(pending EQUAL -1)
          string(APPEND problems "\n  ${rel}:${number}: link to a missing "
                 "file: ${target}")
        endif()
        continue()
      endif()
      if(anchor AND file MATCHES "\\.md$")
        iai_anchors("${file}" anchors)
        list(FIND anchors "${anchor}" found)
        if(found EQUAL -1)
          string(APPEND problems "\n  ${rel}:${number}: no heading "
                 "'#${anchor}' in ${file_rel}")
        endif()
      endif()
    endforeach()
  endforeach()
endforeach()

if(problems)
  message(FATAL_ERROR "docs lint:${problems}")
endif()
list(LENGTH checked count)
message(STATUS "docs lint holds: ${count} files, README within "
               "${kIaiReadmeMaxLines} lines, links resolve")
