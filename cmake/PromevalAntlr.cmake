# Generates the C++ lexer, parser and visitor for a grammar with Debian's
# /usr/bin/antlr4 wrapper into the build directory. (Debian's antlr4_generate()
# and antlr's FindANTLR.cmake call `java -jar`, which fails with Debian's jar.)
#
# promeval_antlr_generate(<target> GRAMMAR <file.g4> NAMESPACE <ns>)
# creates a static library <target> holding the generated code.
find_program(ANTLR4_TOOL antlr4 REQUIRED)

function(promeval_antlr_generate target)
  cmake_parse_arguments(ARG "" "GRAMMAR;NAMESPACE" "" ${ARGN})
  get_filename_component(name ${ARG_GRAMMAR} NAME_WE)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/antlr_${name})
  set(sources
      ${out}/${name}Lexer.cpp ${out}/${name}Parser.cpp
      ${out}/${name}Visitor.cpp ${out}/${name}BaseVisitor.cpp)
  set(headers
      ${out}/${name}Lexer.h ${out}/${name}Parser.h
      ${out}/${name}Visitor.h ${out}/${name}BaseVisitor.h)
  add_custom_command(
    OUTPUT ${sources} ${headers}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out}
    COMMAND ${ANTLR4_TOOL} -Dlanguage=Cpp -visitor -no-listener
            -package ${ARG_NAMESPACE} -o ${out} -Xexact-output-dir
            ${ARG_GRAMMAR}
    DEPENDS ${ARG_GRAMMAR}
    COMMENT "Generating ${name} parser with antlr4"
    VERBATIM)
  add_library(${target} STATIC ${sources})
  target_include_directories(${target} SYSTEM PUBLIC $<BUILD_INTERFACE:${out}>)
  target_link_libraries(${target} PUBLIC antlr4_static)
  # Code from tool 4.7.2 uses u8"" literals, which break under C++20 char8_t.
  target_compile_options(${target} PRIVATE -fno-char8_t -w)
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()
