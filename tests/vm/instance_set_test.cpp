// InstanceSet (vm/runtime/instance_set.h): the awake set every tick orders, thins and
// refills. Checked against a std::set under a seeded mix of its operations, so that the
// shortcuts in ordered() (no merge when the parts do not interleave, a kept buffer when
// they do) give exactly the order a full sort would.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "vm/runtime/instance_set.h"

namespace {

using ved::vm::InstanceSet;

// A strict order that is not the indices' own, as instance order is not.
bool less(size_t a, size_t b) { return (a * 7919) % 1009 < (b * 7919) % 1009 || ((a * 7919) % 1009 == (b * 7919) % 1009 && a < b); }

std::vector<size_t> reference_order(const std::set<size_t>& members) {
  std::vector<size_t> out(members.begin(), members.end());
  std::sort(out.begin(), out.end(), less);
  return out;
}

}  // namespace

TEST_CASE("instance set: ordered() matches a sorted copy under inserts and erasures") {
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    std::mt19937 random(seed);
    InstanceSet set;
    std::set<size_t> model;
    for (int step = 0; step < 400; ++step) {
      const uint32_t what = random() % 10;
      if (what < 6) {
        const size_t i = random() % 300;
        set.insert(i);
        model.insert(i);
      } else if (what < 8) {
        const size_t modulus = 2 + random() % 5;
        set.erase_if([&](size_t i) { return i % modulus == 0; });
        std::erase_if(model, [&](size_t i) { return i % modulus == 0; });
      } else {
        const std::vector<size_t>& got = set.ordered(less);
        REQUIRE(got == reference_order(model));
      }
      REQUIRE(set.size() == model.size());
      for (size_t i = 0; i < 300; i += 37) REQUIRE(set.contains(i) == model.contains(i));
    }
    CHECK(set.ordered(less) == reference_order(model));
  }
}

TEST_CASE("instance set: members added after the ordered ones, before or after them all, or between") {
  InstanceSet set;
  auto by_value = [](size_t a, size_t b) { return a < b; };
  for (size_t i : {10, 20, 30}) set.insert(i);
  CHECK(set.ordered(by_value) == std::vector<size_t>{10, 20, 30});
  set.insert(40);  // after them all: no merge needed
  CHECK(set.ordered(by_value) == std::vector<size_t>{10, 20, 30, 40});
  set.insert(5);  // before them all
  set.insert(25);  // between
  CHECK(set.ordered(by_value) == std::vector<size_t>{5, 10, 20, 25, 30, 40});
  set.erase_if([](size_t i) { return i == 20; });
  set.insert(1);
  CHECK(set.ordered(by_value) == std::vector<size_t>{1, 5, 10, 25, 30, 40});
  set.clear();
  CHECK(set.empty());
  CHECK(set.ordered(by_value).empty());
}
