# Install rules for docs and the man page, and CPack (.deb). Included once
# from the top-level CMakeLists.txt.
#
#   cmake --install build --prefix /usr      # or a staging dir
#   (cd build && cpack -G DEB)                # build/newsflowd_<ver>_<arch>.deb
#
# The unit, tmpfiles.d entry and /etc/newsflow files come from systemd/.

include(GNUInstallDirs)

# `cpack` / `ninja package` must not build every test first: install only
# needs newsflowd (built by `ninja newsflowd`).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(FILES ${CMAKE_SOURCE_DIR}/docs/newsflowd.1
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_SOURCE_DIR}/docs/operator-guide.md
              ${CMAKE_SOURCE_DIR}/docs/consumer-guide.md
              ${CMAKE_SOURCE_DIR}/docs/article.schema.json
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/newsflowd)

# A man tree in the build dir, so `systemd-analyze verify` can resolve the
# unit's Documentation=man:newsflowd(1) before installation (tests).
configure_file(${CMAKE_SOURCE_DIR}/docs/newsflowd.1
               ${CMAKE_BINARY_DIR}/man/man1/newsflowd.1 COPYONLY)

set(CPACK_PACKAGE_NAME "newsflowd")
set(CPACK_PACKAGE_VENDOR "newsflow")
set(CPACK_PACKAGE_CONTACT "newsflow maintainers <newsflow@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "News-ingestion daemon: RSS/Atom/JSON feeds to Kafka")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_GENERATOR "DEB")
# Debug info stays in the build tree; the package gets a stripped binary.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/newsflow")
# Shared-library dependencies from dpkg-shlibdeps; systemd for the unit.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
