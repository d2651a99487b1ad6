// The main() of every doctest binary of tests/.
//
// Tests that read the shared corpus of programs (VED_CORPUS_DIR, ../shared/corpus beside
// the checkout) carry the decorator `* doctest::test_suite("corpus")`. A clone of this
// repository alone has no corpus: CMake then compiles this file with VED_HAVE_CORPUS=0
// and the suite is left out here, so that `--list-test-cases` does not list those tests
// (doctest_discover_tests registers what it lists) and a plain run does not run them.
// tests/CMakeLists.txt counts them and says so at configure time.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <filesystem>
#include <iostream>
#include <system_error>

#ifndef VED_HAVE_CORPUS
#define VED_HAVE_CORPUS 0
#endif

int main(int argc, char** argv) {
  doctest::Context context;
  if (!VED_HAVE_CORPUS) {
    context.addFilter("test-suite-exclude", "corpus");
  } else {
#ifdef VED_MAIN_CORPUS_DIR
    // Registered when the corpus was there; without it they would fail on missing files.
    std::error_code ec;
    if (!std::filesystem::is_directory(VED_MAIN_CORPUS_DIR, ec))
      std::cerr << "warning: the corpus tests were configured with " << VED_MAIN_CORPUS_DIR
                << ", which is gone; re-run cmake to leave them out\n";
#endif
  }
  context.applyCommandLine(argc, argv);
  return context.run();
}
