// `vedvm status --join HOST:PORT --json` of a live 3-node cluster (real `vedvm node`
// processes, tests/cluster/process_cluster.h) validated against docs/json/status.schema.json
// — the documented schema, read from there — by tests/runtime/check_json.py (python3's
// jsonschema), as tests/runtime/json_output_test.cpp does for inspect: with every member
// up, with one killed (its row's nulls), and wrong documents rejected at the right place.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "process_cluster.h"

using namespace ved::cluster::test;
using nlohmann::json;

namespace {

const std::string kProgram = std::string(VED_EXAMPLES_DIR) + "/hello.ved";

// A python3 that has jsonschema (Debian: python3-jsonschema), or "".
std::string python_with_jsonschema(ProcessCluster& c) {
  for (const std::string& p : {std::string("/usr/bin/python3"), std::string(VED_PYTHON3)}) {
    std::error_code ec;
    if (!p.empty() && std::filesystem::exists(p, ec) && c.run({p, "-c", "import jsonschema"}, 20000).exit_code == 0)
      return p;
  }
  return "";
}

// check_json.py's verdict on `text` against status.schema.json: 0 valid, 1 invalid (each
// error in `out`), 2 the check could not run.
CommandResult validate(ProcessCluster& c, const std::string& python, const std::string& text) {
  static int n = 0;
  const std::string file = c.dir() / ("status-" + std::to_string(++n) + ".json");
  std::ofstream(file) << text;
  return c.run({python, VED_CHECK_JSON, std::string(VED_DOCS_DIR) + "/json", "status.schema.json", file}, 30000);
}

}  // namespace

TEST_CASE("status --json of a live 3-node cluster matches docs/json/status.schema.json, wrong documents do not") {
  ProcessCluster c(VED_VEDVM);
  const std::string python = python_with_jsonschema(c);
  REQUIRE_MESSAGE(!python.empty(), "no python3 with the jsonschema module: apt-get install python3-jsonschema");
  form(c, 3);
  auto submitted = c.vedvm({"--join", c.address(1), kProgram});
  REQUIRE_MESSAGE(submitted.exit_code == 0, submitted.err);
  REQUIRE(ProcessCluster::wait_until([&] { return programs_on(c, 2) == 1; }, 10000));

  auto status = c.vedvm({"status", "--join", c.address(2), "--json"});
  REQUIRE_MESSAGE(status.exit_code == 0, status.err);
  auto valid = validate(c, python, status.out);
  CHECK_MESSAGE(valid.exit_code == 0, valid.out << valid.err << "\n" << status.out);
  const json good = json::parse(status.out);
  REQUIRE(good["members"].size() == 3);
  REQUIRE(good["programs"].size() == 1);

  // One thing wrong at a time: exit 1 (2 would be a broken check), the error where it is.
  auto rejected = [&](const std::string& what, const json& doc, const std::string& at) {
    INFO(what);
    auto r = validate(c, python, doc.dump());
    CHECK_MESSAGE(r.exit_code == 1, r.out << r.err);
    CHECK_MESSAGE(r.out.find(at) != std::string::npos, r.out);
  };
  json no_quorum = good;
  no_quorum["asked"].erase("quorum");
  rejected("asked without quorum", no_quorum, "at /asked");
  json up = good;
  up["members"][1]["state"] = "UP";
  rejected("a state of no known kind", up, "at /members/1/state");
  json text_term = good;
  text_term["term"] = "7";
  rejected("a term as text", text_term, "at /term");
  json short_cluster = good;
  short_cluster["cluster"] = "abc";
  rejected("a cluster id that is not 16 bytes of hex", short_cluster, "at /cluster");
  json extra = good;
  extra["programs"][0]["running"] = true;
  rejected("a program member the schema does not know", extra, "at /programs/0");

  // A member killed: the asked member's view of it, with nulls for what only it could say.
  const int leader = leader_of(c, {1, 2, 3});
  REQUIRE(leader > 0);
  const int victim = leader == 3 ? 2 : 3;
  const int asked = 6 - leader - victim;
  c.kill9(victim);
  CommandResult degraded;
  REQUIRE(ProcessCluster::wait_until(
      [&] {
        degraded = c.vedvm({"status", "--join", c.address(asked), "--json"});
        const json doc = json::parse(degraded.out, nullptr, /*allow_exceptions=*/false);
        if (doc.is_discarded()) return false;
        for (const auto& m : doc["members"])
          if (m["address"] == c.address(victim)) return m["state"] == "DOWN" && m["raft_state"].is_null();
        return false;
      },
      15000));
  auto still_valid = validate(c, python, degraded.out);
  CHECK_MESSAGE(still_valid.exit_code == 0, still_valid.out << still_valid.err << "\n" << degraded.out);
}
