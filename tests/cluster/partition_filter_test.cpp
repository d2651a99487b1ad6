// The testing-only partition list (cluster/partition_filter.h): what the file may say,
// what is refused, and when PartitionFile reports a change. The processes that use it
// are in partition_test.cpp.
#include "cluster/partition_filter.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>

#include "cluster_test_support.h"

using namespace ved::cluster;
using namespace ved::cluster::test;

namespace {

void replace_file(const std::string& path, const std::string& text) {
  {
    std::ofstream out(path + ".tmp", std::ios::trunc);
    out << text;
  }
  REQUIRE(std::rename((path + ".tmp").c_str(), path.c_str()) == 0);
}

}  // namespace

TEST_CASE("partition list: ids and HOST:PORTs, separated by blanks, commas and lines, with comments") {
  PartitionList list;
  std::string error;
  REQUIRE(parse_partition_list("# cut off:\n12 127.0.0.1:7002,127.0.0.1:7003\r\n\n  9007199254740991 # the largest id\n",
                               list, error));
  CHECK(list.ids == std::set<uint64_t>{12, 9007199254740991ull});
  CHECK(list.addresses == std::set<std::string>{"127.0.0.1:7002", "127.0.0.1:7003"});
  CHECK(list.blocks(12, "127.0.0.1:1"));
  CHECK(list.blocks(5, "127.0.0.1:7003"));
  CHECK_FALSE(list.blocks(5, "127.0.0.1:7004"));
  CHECK(list.describe() == "node 12, node 9007199254740991, 127.0.0.1:7002, 127.0.0.1:7003");

  PartitionList empty;
  REQUIRE(parse_partition_list("", empty, error));
  CHECK(empty.empty());
  REQUIRE(parse_partition_list("# nobody\n\n, ,\n", empty, error));
  CHECK(empty.empty());
  CHECK(empty.describe() == "nobody");
  CHECK_FALSE(empty.blocks(12, "127.0.0.1:7002"));
}

TEST_CASE("partition list: anything else is refused with its line, and the list is left as it was") {
  PartitionList list;
  std::string error;
  REQUIRE(parse_partition_list("7", list, error));
  const PartitionList before = list;
  const std::pair<const char*, const char*> cases[] = {
      {"127.0.0.1:7002\n127.0.0.1:notaport\n", "line 2: `127.0.0.1:notaport` is neither a node id nor HOST:PORT"},
      {"127.0.0.1:0", "line 1: `127.0.0.1:0` is neither a node id nor HOST:PORT"},
      {"\n\n:7002", "line 3: `:7002` is neither a node id nor HOST:PORT"},
      {"0", "line 1: `0` is not a node id (1 .. 2^53-1)"},
      {"9007199254740992", "line 1: `9007199254740992` is not a node id (1 .. 2^53-1)"},
      {"123456789012345678901234567890", "line 1: `123456789012345678901234567890` is not a node id (1 .. 2^53-1)"},
      {"node-3", "line 1: `node-3` is neither a node id nor HOST:PORT"},
      {"a\x01:1", "line 1: `a?:1` is neither a node id nor HOST:PORT"},
  };
  for (const auto& [text, expected] : cases) {
    CAPTURE(text);
    CHECK_FALSE(parse_partition_list(text, list, error));
    CHECK(error == expected);
    CHECK(list == before);
  }
}

TEST_CASE("partition file: missing is empty, a change is reported once, a malformed file keeps the list in force") {
  ScratchDir dir;
  const std::string path = dir / "partition";
  PartitionFile file(path);
  CHECK(file.refresh() == PartitionFile::Change::Updated);  // the first look, even at nothing
  CHECK(file.list().empty());
  CHECK(file.refresh() == PartitionFile::Change::None);

  replace_file(path, "127.0.0.1:7002\n");
  CHECK(file.refresh() == PartitionFile::Change::Updated);
  CHECK(file.list().addresses == std::set<std::string>{"127.0.0.1:7002"});
  CHECK(file.refresh() == PartitionFile::Change::None);
  replace_file(path, "127.0.0.1:7002 # same list, new file\n");
  CHECK(file.refresh() == PartitionFile::Change::None);

  replace_file(path, "127.0.0.1:7003\nnonsense\n");
  CHECK(file.refresh() == PartitionFile::Change::Rejected);
  CHECK(file.error() == path + ": line 2: `nonsense` is neither a node id nor HOST:PORT");
  CHECK(file.list().addresses == std::set<std::string>{"127.0.0.1:7002"});
  CHECK(file.refresh() == PartitionFile::Change::None);  // reported once

  // Valid again, even with the list already in force: reported, so the log shows it.
  replace_file(path, "127.0.0.1:7002\n");
  CHECK(file.refresh() == PartitionFile::Change::Updated);
  CHECK(file.error().empty());

  std::remove(path.c_str());
  CHECK(file.refresh() == PartitionFile::Change::Updated);
  CHECK(file.list().empty());
  CHECK(file.refresh() == PartitionFile::Change::None);
}
