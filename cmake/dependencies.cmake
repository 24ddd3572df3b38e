# The build's dependencies. LibTorch: Debian's libtorch-dev by default; any
# other (a CUDA LibTorch 2.x, e.g. a pip torch's) through
# -DCMAKE_PREFIX_PATH=<its cmake prefix> (scripts/setup.sh --libtorch DIR).
# The header-only ones (CLI11, nlohmann-json, stb) and zlib's headers come
# from the installed Debian packages, else from IAI_VENDOR_DIR, a folder
# scripts/vendor-deps.sh fills from those packages to be copied to machines
# without them (GPU machines without apt). matio is optional.

set(IAI_VENDOR_DIR "${PROJECT_SOURCE_DIR}/vendor" CACHE PATH
    "Folder of vendored dependencies (scripts/vendor-deps.sh), used where a package is not installed")
option(IAI_ONLY_VENDORED
       "Ignore installed CLI11, nlohmann-json, stb and GTest: take them from IAI_VENDOR_DIR (checks a GPU machine's build path)"
       OFF)
set(IAI_WITH_MATIO AUTO CACHE STRING
    "MATLAB .mat data sets (svhn, omniglot) through matio: ON, OFF or AUTO (when found)")
set_property(CACHE IAI_WITH_MATIO PROPERTY STRINGS ON OFF AUTO)

set(IAI_VENDOR_INCLUDE "${IAI_VENDOR_DIR}/include")
if(IAI_ONLY_VENDORED)
  set(iai_search NO_DEFAULT_PATH)
else()
  set(iai_search "")
endif()

find_package(Torch REQUIRED)
message(STATUS "iai: LibTorch ${Torch_VERSION} from ${Torch_DIR}")

# A header-only dependency as an INTERFACE target on the vendored headers.
function(iai_vendored_target target header)
  find_path(include_dir ${header} PATHS ${IAI_VENDOR_INCLUDE} NO_DEFAULT_PATH)
  if(NOT include_dir)
    message(FATAL_ERROR
            "${target}: not installed and not in ${IAI_VENDOR_INCLUDE}; "
            "install the Debian packages (scripts/setup.sh) or copy them "
            "there with scripts/vendor-deps.sh on a machine that has them")
  endif()
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES
                                             "${include_dir}")
  message(STATUS "iai: ${target} from ${include_dir}")
  unset(include_dir CACHE)
endfunction()

if(NOT IAI_ONLY_VENDORED)
  find_package(CLI11 QUIET)
  find_package(nlohmann_json QUIET)
endif()
if(NOT TARGET CLI11::CLI11)
  iai_vendored_target(CLI11::CLI11 CLI/CLI.hpp)
endif()
if(NOT TARGET nlohmann_json::nlohmann_json)
  iai_vendored_target(nlohmann_json::nlohmann_json nlohmann/json.hpp)
endif()

find_path(STB_INCLUDE_DIR stb_image_write.h PATH_SUFFIXES stb
          PATHS ${IAI_VENDOR_INCLUDE} ${iai_search})
if(NOT STB_INCLUDE_DIR)
  message(FATAL_ERROR "stb_image_write.h: install libstb-dev or run "
                      "scripts/vendor-deps.sh where it is installed")
endif()

# zlib: the library is on every Linux machine; its headers may not be.
if(NOT IAI_ONLY_VENDORED)
  find_package(ZLIB QUIET)
endif()
if(NOT TARGET ZLIB::ZLIB)
  find_path(IAI_ZLIB_INCLUDE zlib.h PATHS ${IAI_VENDOR_INCLUDE} NO_DEFAULT_PATH)
  find_library(IAI_ZLIB_LIBRARY NAMES z libz.so.1)
  if(NOT IAI_ZLIB_INCLUDE OR NOT IAI_ZLIB_LIBRARY)
    message(FATAL_ERROR "zlib: install zlib1g-dev or run scripts/vendor-deps.sh")
  endif()
  add_library(ZLIB::ZLIB UNKNOWN IMPORTED)
  set_target_properties(ZLIB::ZLIB PROPERTIES
                        IMPORTED_LOCATION "${IAI_ZLIB_LIBRARY}"
                        INTERFACE_INCLUDE_DIRECTORIES "${IAI_ZLIB_INCLUDE}")
  message(STATUS "iai: zlib headers from ${IAI_ZLIB_INCLUDE}, library ${IAI_ZLIB_LIBRARY}")
endif()

# matio (optional): without it the .mat loaders say how to get it.
set(IAI_HAVE_MATIO OFF)
if(NOT IAI_WITH_MATIO STREQUAL "OFF")
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(MATIO QUIET IMPORTED_TARGET matio)
  endif()
  if(TARGET PkgConfig::MATIO)
    set(IAI_HAVE_MATIO ON)
  elseif(IAI_WITH_MATIO STREQUAL "ON")
    message(FATAL_ERROR "-DIAI_WITH_MATIO=ON but matio was not found "
                        "(install libmatio-dev and pkg-config)")
  endif()
endif()
if(IAI_HAVE_MATIO)
  message(STATUS "iai: matio found: svhn and omniglot (.mat) data sets enabled")
else()
  message(STATUS "iai: without matio: svhn and omniglot (.mat) data sets "
                 "disabled (they say how to enable them)")
endif()
