#include <doctest/doctest.h>

#include "frontend/keywords.h"
#include "frontend/source_manager.h"

using namespace ved;

TEST_CASE("offsets map to 1-based lines and code-point columns") {
  SourceManager sm;
  FileId id = sm.add("f.ved", "ab\ncaf\xC3\xA9 x\n\nlast");
  const SourceFile& f = sm.file(id);
  CHECK(f.line_count() == 4);
  CHECK(f.locate(0).line == 1);
  CHECK(f.locate(0).column == 1);
  CHECK(f.locate(3).line == 2);
  CHECK(f.locate(3).column == 1);
  CHECK(f.locate(9).column == 6);  // after `café` (5 bytes for 4 code points) and a space: `x`
  CHECK(f.locate(11).line == 3);
  CHECK(f.locate(12).line == 4);
  CHECK(f.line_text(2) == "caf\xC3\xA9 x");
  CHECK(f.line_text(3) == "");
  CHECK(f.line_text(99) == "");
  CHECK(f.locate(10000).line == 4);  // clamps past the end
}

TEST_CASE("the end of a non-ASCII file is locatable whatever its length") {
  // Found by fuzzing: a file whose length is a multiple of the checkpoint stride read
  // one checkpoint past the end when asked for the column of its last offset.
  for (size_t length : {255u, 256u, 257u, 512u, 1024u}) {
    std::string text = "\xC3\xA9";  // é: 2 bytes, 1 code point
    text += std::string(length - text.size(), 'a');
    SourceManager sm;
    const SourceFile& f = sm.file(sm.add("f.ved", text));
    CAPTURE(length);
    CHECK(f.locate(static_cast<uint32_t>(length)).column == length);  // one code point fewer than bytes, 1-based
    CHECK(f.locate(static_cast<uint32_t>(length) - 1).column == length - 1);
  }
}

TEST_CASE("CRLF line endings are not part of the line text") {
  SourceManager sm;
  FileId id = sm.add("f.ved", "one\r\ntwo\r\n");
  CHECK(sm.file(id).line_text(1) == "one");
  CHECK(sm.file(id).locate(5).line == 2);
}

TEST_CASE("UTF-8 validation finds the first bad byte") {
  CHECK(find_invalid_utf8("plain ascii") == std::string::npos);
  CHECK(find_invalid_utf8("caf\xC3\xA9") == std::string::npos);
  CHECK(find_invalid_utf8("\xF0\x9F\x98\x80") == std::string::npos);
  CHECK(find_invalid_utf8("ab\xE9") == 2);              // Latin-1 é
  CHECK(find_invalid_utf8("\xC0\xAF") == 0);            // overlong
  CHECK(find_invalid_utf8("\xED\xA0\x80") == 0);        // surrogate
  CHECK(find_invalid_utf8("\xF4\x90\x80\x80") == 0);    // above U+10FFFF
  CHECK(find_invalid_utf8("ok\xE2\x82") == 2);          // truncated
  CHECK(find_invalid_utf8(std::string("a\0b", 3)) == std::string::npos);
}

TEST_CASE("missing files are reported, not thrown") {
  SourceManager sm;
  FileId id;
  std::string error;
  CHECK_FALSE(sm.add_from_disk("/nonexistent/dir/x.ved", id, error));
  CHECK(error.find("/nonexistent/dir/x.ved") != std::string::npos);
}

TEST_CASE("keyword suggestions") {
  CHECK(edit_distance("domian", "domain") == 1);
  CHECK(edit_distance("predcate", "predicate") == 1);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(nearest_word("domian", item_keywords()) == "domain");
  CHECK(nearest_word("transtion", item_keywords()) == "transition");
  CHECK(nearest_word("domain", item_keywords()) == std::nullopt);  // correct spelling
  CHECK(nearest_word("xyzzy", item_keywords()) == std::nullopt);
  CHECK(nearest_word("fo", item_keywords()) == std::nullopt);      // too short to guess
  CHECK(is_reserved_word("test"));
  CHECK_FALSE(is_reserved_word("target"));
}
