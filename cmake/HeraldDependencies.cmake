# Every dependency herald needs comes from Debian 12's packages (scripts/install-deps installs them).
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json url)
find_package(OpenSSL 3 REQUIRED)
find_package(PkgConfig REQUIRED)
# Debian's libre2-dev ships no CMake package, only a pkg-config file.
pkg_check_modules(re2 REQUIRED IMPORTED_TARGET GLOBAL re2)
