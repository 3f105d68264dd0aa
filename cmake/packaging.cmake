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

# Man pages and the Debian changelog are installed gzip -9n compressed
# (Debian policy 12.3/12.7, what lintian checks); -n keeps the package
# reproducible (no name or time stamp in the gzip header).
set(NF_MAN_PAGES
    ${CMAKE_SOURCE_DIR}/docs/newsflowd.8
    ${CMAKE_SOURCE_DIR}/docs/newsflow.yaml.5)
set(NF_DOCDIR_REL ${CMAKE_INSTALL_DATAROOTDIR}/doc/newsflowd)
install(CODE "
  foreach(page ${NF_MAN_PAGES})
    get_filename_component(name \${page} NAME)
    string(REGEX REPLACE \".*[.]\" \"\" section \${name})
    set(dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_MANDIR}/man\${section}\")
    file(MAKE_DIRECTORY \${dir})
    execute_process(COMMAND gzip -9n -c \${page}
                    OUTPUT_FILE \${dir}/\${name}.gz
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR \"gzip \${page} failed\")
    endif()
    message(STATUS \"Installing: \${dir}/\${name}.gz\")
  endforeach()
  set(doc \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${NF_DOCDIR_REL}\")
  file(MAKE_DIRECTORY \${doc})
  execute_process(COMMAND gzip -9n -c ${CMAKE_SOURCE_DIR}/packaging/debian/changelog
                  OUTPUT_FILE \${doc}/changelog.gz)
")
install(FILES ${CMAKE_SOURCE_DIR}/docs/operator-guide.md
              ${CMAKE_SOURCE_DIR}/docs/consumer-guide.md
              ${CMAKE_SOURCE_DIR}/docs/article.schema.json
              ${CMAKE_SOURCE_DIR}/packaging/debian/copyright
        DESTINATION ${NF_DOCDIR_REL})

# A man tree in the build dir, so `systemd-analyze verify` can resolve the
# unit's Documentation=man:newsflowd(8) man:newsflow.yaml(5) before
# installation (tests).
configure_file(${CMAKE_SOURCE_DIR}/docs/newsflowd.8
               ${CMAKE_BINARY_DIR}/man/man8/newsflowd.8 COPYONLY)
configure_file(${CMAKE_SOURCE_DIR}/docs/newsflow.yaml.5
               ${CMAKE_BINARY_DIR}/man/man5/newsflow.yaml.5 COPYONLY)

set(CPACK_PACKAGE_NAME "newsflowd")
set(CPACK_PACKAGE_VENDOR "newsflow")
set(CPACK_PACKAGE_CONTACT "newsflow maintainers <newsflow@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "news-ingestion daemon: RSS/Atom/JSON feeds to Kafka")
# CPack puts the summary on the Description: line itself; this is the
# extended description under it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "newsflowd polls RSS, Atom and JSON Feed sources, fetches the full article
 where a feed only carries a teaser, strips the boilerplate around each
 story and publishes one normalized JSON article per story to Kafka (or a
 JSON lines file). It runs as a hardened systemd service configured in
 YAML.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_GENERATOR "DEB")
# Debug info stays in the build tree; the package gets a stripped binary.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/newsflow")
# Shared-library dependencies from dpkg-shlibdeps (libcurl, librdkafka,
# libxml2, libicu72, libcctz2 ...); systemd for the unit. Building needs the
# -dev packages scripts/setup installs (there is no separate debian/control:
# CPack writes the binary package's control file; its Build-Depends are
# scripts/setup's list, including libicu-dev and libcctz-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd")
# TLS feeds need the CA bundle; feed `timezone:` names need the zone files.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates, tzdata")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
