# install_etc.cmake - run by `cmake --install` (and CPack): install the
# config, the logrotate file and the systemd units. Set before it:
# SF_SRC (source folder), SF_BIN (build folder), SF_DATADIR (share).
#
# Under the prefix /usr they go to /etc and /lib (a package must not ship
# /usr/etc); under any other prefix P to P/etc and P/lib. file(INSTALL)
# adds $DESTDIR itself.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(sf_top "")
else()
  set(sf_top "${CMAKE_INSTALL_PREFIX}")
endif()

# conf/sfhttpd.conf serves ../www beside the source tree: point the
# installed copy at the installed example site. For the system package,
# once the file documents the `user` key, make the workers run as the
# package's user.
file(READ "${SF_SRC}/conf/sfhttpd.conf" conf)
string(REGEX REPLACE "\nroot = \\.\\./www\n"
       "\nroot = ${CMAKE_INSTALL_PREFIX}/${SF_DATADIR}/sfhttpd/www\n" conf "${conf}")
if(sf_top STREQUAL "" AND conf MATCHES "\n[;#]? *user *= *[^\n]*\n")
  string(REGEX REPLACE "\n[;#]? *user *= *[^\n]*\n" "\nuser = sfhttpd\n" conf "${conf}")
endif()
# A service is reloaded with SIGHUP, which needs the master process even
# with one worker.
if(sf_top STREQUAL "")
  string(REGEX REPLACE "\nmaster = auto\n" "\nmaster = on\n" conf "${conf}")
endif()
file(WRITE "${SF_BIN}/install-etc/sfhttpd.conf" "${conf}")

file(INSTALL DESTINATION "${sf_top}/etc/sfhttpd" TYPE FILE
     FILES "${SF_BIN}/install-etc/sfhttpd.conf")
file(INSTALL DESTINATION "${sf_top}/etc/logrotate.d" TYPE FILE
     RENAME sfhttpd FILES "${SF_SRC}/conf/sfhttpd.logrotate")
file(INSTALL DESTINATION "${sf_top}/lib/systemd/system" TYPE FILE
     FILES "${SF_SRC}/conf/sfhttpd.service" "${SF_SRC}/conf/sfhttpd.socket")
