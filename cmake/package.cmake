# package.cmake - what `cmake --install` puts where, and the Debian package
# that `cpack -G DEB` builds from it. Included from the top CMakeLists.txt
# after the sfhttpd target exists.
#
# Layout under a prefix P (`cmake --install build --prefix P`):
#   P/sbin/sfhttpd
#   P/etc/sfhttpd/sfhttpd.conf          (root points at P/share/sfhttpd/www)
#   P/etc/logrotate.d/sfhttpd
#   P/lib/systemd/system/sfhttpd.{service,socket}
#   P/share/man/man8/sfhttpd.8.gz, P/share/man/man5/sfhttpd.conf.5.gz
#   P/share/doc/sfhttpd/README.md, copyright
#   P/share/sfhttpd/www/                 (the example site)
# With the prefix /usr (the package), the files of etc/ and lib/ go to /etc
# and /lib, as GNUInstallDirs does for sysconfdir: a package must not ship
# /usr/etc. That choice is made at install time, because `--prefix` and
# CPack both pick the prefix then, not when CMake configures.

# ---- man pages, gzipped (Debian's policy) when gzip is there ------------------
find_program(SF_GZIP gzip)
set(SF_MAN_PAGES man/sfhttpd.8 man/sfhttpd.conf.5)
set(SF_MAN_OUT)
foreach(page ${SF_MAN_PAGES})
  get_filename_component(name ${page} NAME)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${name})
  if(SF_GZIP)
    set(out ${CMAKE_BINARY_DIR}/man/${name}.gz)
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND ${SF_GZIP} -9nc ${CMAKE_SOURCE_DIR}/${page} > ${out}
      DEPENDS ${CMAKE_SOURCE_DIR}/${page}
      COMMENT "gzip ${name}" VERBATIM)
  else()
    set(out ${CMAKE_SOURCE_DIR}/${page})
  endif()
  list(APPEND SF_MAN_OUT ${out})
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(sfhttpd_man ALL DEPENDS ${SF_MAN_OUT})

# ---- documentation and the example site ---------------------------------------
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)
install(DIRECTORY www/ DESTINATION ${CMAKE_INSTALL_DATADIR}/sfhttpd/www)

# ---- /etc and /lib: decided at install time -----------------------------------
# The config is conf/sfhttpd.conf with its example root (../www, beside
# the source tree) pointed at the installed example site; for the system
# package (prefix /usr) the workers run as the package's user once the
# config documents the `user` key.
install(CODE "set(SF_SRC \"${CMAKE_SOURCE_DIR}\")
  set(SF_BIN \"${CMAKE_BINARY_DIR}\")
  set(SF_DATADIR \"${CMAKE_INSTALL_DATADIR}\")")
install(SCRIPT cmake/install_etc.cmake)

# ---- the Debian package (cpack -G DEB in the build folder) --------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sfhttpd)
set(CPACK_PACKAGE_VENDOR "sfhttpd")
set(CPACK_PACKAGE_CONTACT "sfhttpd maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "static-file HTTP/1.1 server with lease-guarded transfers")
set(CPACK_PACKAGE_DESCRIPTION
    "sfhttpd serves directory trees over HTTP/1.1 with sendfile(2), confines\nevery path beneath its site root with openat2(RESOLVE_BENEATH), and uses\nfile leases so that no client receives a body mixed from two versions of\na file. Master and worker processes, virtual hosts, graceful reload,\nsystemd socket activation and readiness notification.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Stage with DESTDIR and the prefix /usr, so that install_etc.cmake sees
# the real prefix and puts the config in /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION httpd)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "media-types, logrotate")
set(CPACK_DEBIAN_PACKAGE_PROVIDES "httpd")
# Depends from the binary's shared libraries (libevent-2.1-7, libmagic1,
# libcap-ng0, libsystemd0, libxxhash0, ...), when dpkg-shlibdeps is there;
# else the list by hand.
find_program(SF_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(SF_FILE_PROGRAM file) # CPack's shlibdeps step needs file(1)
if(SF_DPKG_SHLIBDEPS AND SF_FILE_PROGRAM)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libc6, libevent-2.1-7, libmagic1, libcap-ng0, libsystemd0, libxxhash0")
endif()
# Maintainer scripts: the system user, the log folder, the service.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
