# Makes the generated lexer and parser build their ATN on first use instead of at
# program start (cmake -P defer_atn_init.cmake -DFILE=... -DCLASS=... -DBASE=...).
#
# ANTLR 4.7's C++ target defines a static `Initializer _init` whose constructor
# deserialises the grammar's ATN before main() runs: about 8 million instructions, which
# every start of `vedc` and `vedvm` paid, `--version` and runs of compiled bundles
# included. This script removes that definition and has the class's constructor build the
# ATN once, on first construction, through a function-local static (thread-safe under
# C++11). The ATN's other statics are defined earlier in the same file, so they exist by
# then. If the generator's output changes shape, the build stops here instead of silently
# keeping the eager start-up.
file(READ "${FILE}" text)
set(eager "${CLASS}::Initializer ${CLASS}::_init;")
set(ctor "${CLASS}::${CLASS}(${ARG}) : ${BASE}(input) {")
foreach(expected IN ITEMS "${eager}" "${ctor}")
  string(FIND "${text}" "${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "defer_atn_init.cmake: `${expected}` not found in ${FILE}; has the ANTLR generator changed?")
  endif()
endforeach()
string(REPLACE "${eager}" "// (${CLASS}::_init removed: the ATN is built on first use, see defer_atn_init.cmake)" text "${text}")
string(REPLACE "${ctor}" "${ctor}\n  static Initializer built_on_first_use;\n  (void)built_on_first_use;" text "${text}")
file(WRITE "${FILE}" "${text}")
