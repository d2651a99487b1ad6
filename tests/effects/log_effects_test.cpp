// Log.Info, Log.Warn: one escaped line per intent.
#include <doctest/doctest.h>

#include <algorithm>

#include "builtin_support.h"

namespace ved::effects_test {
namespace {

TEST_CASE("a log intent writes one line with its level and instance") {
  Builtins b;
  REQUIRE(b.set.effect("Log.Info"));
  CHECK(b.set.effect("Log.Info")->between_ticks());
  CHECK(b.set.effect("Log.Warn")->between_ticks());
  vm::EffectOutcome o = b.run("Log.Info", {str("started")}, std::nullopt, "Pool");
  REQUIRE(o.ok);
  CHECK(o.value.tag() == vm::Tag::Unit);
  REQUIRE(b.run("Log.Warn", {str("disk almost full")}, std::nullopt, "Worker[3]").ok);
  CHECK(b.log.str() == "log info Pool: started\nlog warn Worker[3]: disk almost full\n");
}

TEST_CASE("newlines and control characters in a message cannot forge lines") {
  Builtins b;
  REQUIRE(b.run("Log.Info", {str("a\nlog warn Admin: forged\r\n")}, std::nullopt, "Pool").ok);
  REQUIRE(b.run("Log.Info", {str("tab\there, back\\slash, esc\x1b[31m")}, std::nullopt, "Pool").ok);
  const std::string out = b.log.str();
  CHECK(std::count(out.begin(), out.end(), '\n') == 2);
  CHECK(out ==
        "log info Pool: a\\nlog warn Admin: forged\\r\\n\n"
        "log info Pool: tab\\there, back\\\\slash, esc\\u{1b}[31m\n");
}

TEST_CASE("the instance is escaped too") {
  Builtins b;
  REQUIRE(b.run("Log.Info", {str("m")}, std::nullopt, "W[\"a\nb\"]").ok);
  CHECK(b.log.str() == "log info W[\"a\\nb\"]: m\n");
}

TEST_CASE("a failing stream is an io failure") {
  Builtins b;
  b.log.setstate(std::ios::badbit);
  vm::EffectOutcome o = b.run("Log.Info", {str("lost")});
  CHECK(o.code == "io");
}

}  // namespace
}  // namespace ved::effects_test
