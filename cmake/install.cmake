# `cmake --install build --prefix P`: the CLI (P/bin/iai), the library
# (P/lib/libiai.a), its public headers (P/include/iai/...) and a CMake
# package (P/lib/cmake/iai) whose exported target iai::iai carries the usage
# requirements, as LibTorch's does:
#   find_package(iai REQUIRED)   # with -DCMAKE_PREFIX_PATH=P
#   target_link_libraries(app PRIVATE iai::iai)
# The library is static: the package also brings what it links privately
# (zlib, oneDNN, matio, OpenMP), found again where it is used.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(IAI_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/iai)

install(TARGETS iai EXPORT iaiTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS iai_bin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/iai/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/iai
        FILES_MATCHING PATTERN "*.h" PATTERN "pch.h" EXCLUDE)
install(EXPORT iaiTargets NAMESPACE iai:: DESTINATION ${IAI_INSTALL_CMAKEDIR})

# What iaiConfig.cmake finds again: the dependencies this build used.
if(TARGET nlohmann_json::nlohmann_json AND nlohmann_json_FOUND)
  set(IAI_CONFIG_NLOHMANN_DIR "")
else()
  # Vendored headers (cmake/dependencies.cmake): an interface target on them.
  get_target_property(IAI_CONFIG_NLOHMANN_DIR nlohmann_json::nlohmann_json
                      INTERFACE_INCLUDE_DIRECTORIES)
endif()
set(IAI_CONFIG_MATIO ${IAI_HAVE_MATIO})
get_target_property(iai_links iai LINK_LIBRARIES)
set(IAI_CONFIG_OPENMP OFF)
if("OpenMP::OpenMP_CXX" IN_LIST iai_links)
  set(IAI_CONFIG_OPENMP ON)
endif()
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/iaiConfig.cmake.in
  ${PROJECT_BINARY_DIR}/iaiConfig.cmake
  INSTALL_DESTINATION ${IAI_INSTALL_CMAKEDIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/iaiConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/iaiConfig.cmake
              ${PROJECT_BINARY_DIR}/iaiConfigVersion.cmake
        DESTINATION ${IAI_INSTALL_CMAKEDIR})
