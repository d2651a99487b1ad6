# Turns a text file into a C++ header holding it as one raw string literal, at build time:
#   cmake -DINPUT=page.html -DOUTPUT=page.h -DNAME=kPage -P embed_text.cmake
# The header is rewritten only when its contents change, so an unchanged page rebuilds
# nothing.
file(READ "${INPUT}" text)
set(delimiter "ved_embed")
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains `)${delimiter}\"`, which would end the raw string literal")
endif()
get_filename_component(source_name "${INPUT}" NAME)
set(header "// Generated at build time from ${source_name} by embed_text.cmake: do not edit.\n#pragma once\n\nnamespace vedvm {\ninline constexpr char ${NAME}[] = R\"${delimiter}(${text})${delimiter}\";\n}  // namespace vedvm\n")
set(old "")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT old STREQUAL header)
  file(WRITE "${OUTPUT}" "${header}")
endif()
