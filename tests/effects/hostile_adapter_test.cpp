// External adapters against scripted adapters inside the test that answer badly: garbage,
// wrong request ids, late replies, wrong value types, malformed envelopes and framing,
// silence. Each becomes an `adapter` failure or a `timeout`, never a crash or a hang, and
// the next good reply still reaches its own request.
#include <doctest/doctest.h>

#include <map>
#include <mutex>
#include <thread>

#include "effects_support.h"
#include "external_support.h"
#include "vm/effects/external_adapter.h"

namespace ved::effects_test {
namespace {

using vm::Value;

const char* kProgram = R"(
effect T.Echo(size: string) -> string : service
effect T.Ping() : service
effect T.Other() -> int : service
observe T.level(name: string) -> int
domain D {
    state { n: int }
    transition Step() { n = n + 1 }
}
)";

std::string describe(const vm::EffectOutcome& o) {
  if (!o.ok) return "failed " + o.code + (o.retryable ? " (retryable)" : "") + ": " + o.message;
  if (o.value.tag() == vm::Tag::String) return "ok " + o.value.as_string();
  if (o.value.tag() == vm::Tag::Unit) return "ok ()";
  return "ok ?";
}

vm::EffectRequest echo(const vm::Program& p, const std::string& text) {
  return request_for(p, "T.Echo", {Value::string(text)});
}

// How the scripted adapter answers T.Echo requests whose argument is `size`; everything
// else (hello included) is answered well: hello lists T.Echo, T.Ping and T.level; Echo
// echoes its argument; Ping answers ok without a value; level answers 42.
using Misbehaviour = std::function<bool(FakeAdapter&, const FakeRequest&)>;  // true: handled

FakeAdapter::Handler script(Misbehaviour bad = nullptr) {
  return [bad](FakeAdapter& a, const FakeRequest& r) {
    if (r.kind == "hello") {
      a.reply(r, hello_reply(r.id, {"T.Echo", "T.Ping"}, {"T.level"}));
      return;
    }
    if (bad && bad(a, r)) return;
    if (r.name == "T.Echo") a.reply(r, ok_string(r.id, r.first_string_arg));
    if (r.name == "T.Ping") a.reply(r, ok_reply(r.id, nullptr));
    if (r.name == "T.level") a.reply(r, ok_reply(r.id, [](Packer& pk) { pk.pack(42); }));
  };
}

std::shared_ptr<vm::ExternalAdapter> connect(const vm::Program& p, const FakeAdapter& fake, int timeout_ms) {
  std::string error;
  auto adapter = vm::connect_external_adapter(p, fake.endpoint(), timeout_ms, error);
  REQUIRE_MESSAGE(adapter, error);
  return adapter;
}

TEST_CASE("a good scripted adapter: effects, unit results, observations, failures passed through") {
  auto p = compile_program(kProgram);
  FakeAdapter fake(script([](FakeAdapter& a, const FakeRequest& r) {
    if (r.first_string_arg == "quota") {
      a.reply(r, fail_reply(r.id, "quota", "out of machines", true));
      return true;
    }
    if (r.first_string_arg == "long") {
      a.reply(r, fail_reply(r.id, "boom", std::string(10000, 'x'), false));
      return true;
    }
    if (r.first_string_arg == "request") {  // echo what the VM sent
      a.reply(r, ok_string(r.id, r.intent + "|" + r.key.value_or("nil") + "|" + std::to_string(r.attempt)));
      return true;
    }
    return false;
  }));
  auto adapter = connect(*p, fake, 2000);
  CHECK(adapter->effects() == std::vector<std::string>{"T.Echo", "T.Ping"});
  CHECK(adapter->observations() == std::vector<std::string>{"T.level"});
  CHECK(describe(adapter->execute(echo(*p, "hi"))) == "ok hi");
  CHECK(describe(adapter->execute(request_for(*p, "T.Ping", {}))) == "ok ()");
  CHECK(describe(adapter->execute(echo(*p, "quota"))) == "failed quota (retryable): out of machines");
  const auto long_failure = adapter->execute(echo(*p, "long"));
  CHECK(long_failure.code == "boom");
  CHECK(long_failure.message.size() <= 4096 + 3);

  auto r = echo(*p, "request");
  r.intent_id = "7-3";
  r.idempotency_key = "deploy-1";
  r.attempt = 2;
  CHECK(describe(adapter->execute(r)) == "ok 7-3|deploy-1|2");
  r.idempotency_key.reset();
  CHECK(describe(adapter->execute(r)) == "ok 7-3|nil|2");

  Value level;
  std::string error;
  const std::vector<Value> args{Value::string("disk")};
  REQUIRE_MESSAGE(adapter->sample("T.level", args, p->observations.back().result, level, error), error);
  CHECK(level.as_int() == 42);

  // Not in hello: not sent.
  const int before = fake.requests();
  CHECK(describe(adapter->execute(request_for(*p, "T.Other", {}))).rfind("failed NoAdapter: ", 0) == 0);
  CHECK(fake.requests() == before);
}

TEST_CASE("a REP adapter, answering one request at a time, works too") {
  auto p = compile_program(kProgram);
  FakeAdapter fake(script(), zmq::socket_type::rep);
  auto adapter = connect(*p, fake, 2000);
  std::vector<std::thread> threads;
  std::vector<std::string> got(4);
  for (size_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] { got[t] = describe(adapter->execute(echo(*p, "rep-" + std::to_string(t)))); });
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < 4; ++t) CHECK(got[t] == "ok rep-" + std::to_string(t));
}

TEST_CASE("replies out of order reach their own requests") {
  auto p = compile_program(kProgram);
  // Holds Echo requests until six are in, then answers them in a scrambled order (neither
  // arrival order nor its reverse).
  std::vector<FakeRequest> held;
  FakeAdapter fake(script([&](FakeAdapter& a, const FakeRequest& r) {
    if (r.name != "T.Echo") return false;
    held.push_back(r);
    if (held.size() == 6) {
      for (size_t i : {3, 0, 5, 1, 4, 2}) a.reply(held[i], ok_string(held[i].id, "echo " + held[i].first_string_arg));
      held.clear();
    }
    return true;
  }));
  auto adapter = connect(*p, fake, 5000);
  std::vector<std::thread> threads;
  std::vector<std::string> got(6);
  for (size_t t = 0; t < 6; ++t)
    threads.emplace_back([&, t] { got[t] = describe(adapter->execute(echo(*p, "n" + std::to_string(t)))); });
  for (auto& th : threads) th.join();
  for (size_t t = 0; t < 6; ++t) CHECK(got[t] == "ok echo n" + std::to_string(t));
}

TEST_CASE("a late reply to a request that timed out does not answer the next one") {
  auto p = compile_program(kProgram);
  // "slow": kept, and answered (with "stale") only when the next request comes in, just
  // before that request's own answer.
  std::optional<FakeRequest> slow;
  FakeAdapter fake(script([&](FakeAdapter& a, const FakeRequest& r) {
    if (r.first_string_arg == "slow") {
      slow = r;
      return true;
    }
    if (slow) {
      a.reply(*slow, ok_string(slow->id, "stale"));
      slow.reset();
    }
    return false;
  }));
  auto adapter = connect(*p, fake, 2000);
  adapter->set_request_timeout_ms(300);
  const auto start = std::chrono::steady_clock::now();
  const auto first = adapter->execute(echo(*p, "slow"));
  CHECK(elapsed_ms(start) >= 250);
  CHECK(elapsed_ms(start) < 1500);
  CHECK(first.code == "timeout");
  CHECK(first.retryable);
  CHECK(first.message.find("no reply from the adapter at " + fake.endpoint() + " within 300 ms") == 0);
  CHECK(describe(adapter->execute(echo(*p, "second"))) == "ok second");
  CHECK(describe(adapter->execute(echo(*p, "third"))) == "ok third");
}

TEST_CASE("garbage, wrong ids and silence time out, malformed answers are adapter failures") {
  auto p = compile_program(kProgram);
  FakeAdapter fake(script([](FakeAdapter& a, const FakeRequest& r) {
    const std::string& what = r.first_string_arg;
    if (what == "garbage") {
      a.reply(r, "\xc1\xff not msgpack at all");
    } else if (what == "wrong id") {
      a.reply(r, ok_string(r.id + 1000, "not yours"));
    } else if (what == "no id") {
      a.reply(r, map_body(2, [](Packer& pk) {
        pk.pack("ok");
        pk.pack(true);
        pk.pack("value");
        pk.pack("x");
      }));
    } else if (what == "silence") {
      // nothing
    } else if (what == "huge length") {  // an id, then a value claiming 4 billion items
      a.reply(r, map_body(3, [&](Packer& pk) {
                   pk.pack("id");
                   pk.pack(r.id);
                   pk.pack("ok");
                   pk.pack(true);
                   pk.pack("value");
                 }) + "\xdd\xff\xff\xff\xff");
    } else if (what == "deep") {
      a.reply(r, map_body(3, [&](Packer& pk) {
                   pk.pack("id");
                   pk.pack(r.id);
                   pk.pack("ok");
                   pk.pack(true);
                   pk.pack("value");
                 }) + std::string(100000, '\x91') + "\x01");
    } else if (what == "many frames") {
      a.reply_frames(r, std::vector<std::string>(1000, ok_string(r.id, "x")));
    } else if (what == "no delimiter") {
      a.reply_frames(r, {"junk", ok_string(r.id, "x")});
    } else if (what == "wrong type") {
      a.reply(r, ok_reply(r.id, [](Packer& pk) { pk.pack(17); }));
    } else if (what == "no value") {
      a.reply(r, ok_reply(r.id, nullptr));
    } else if (what == "no ok") {
      a.reply(r, map_body(2, [&](Packer& pk) {
        pk.pack("id");
        pk.pack(r.id);
        pk.pack("value");
        pk.pack("x");
      }));
    } else if (what == "ok not bool") {
      a.reply(r, map_body(2, [&](Packer& pk) {
        pk.pack("id");
        pk.pack(r.id);
        pk.pack("ok");
        pk.pack(1);
      }));
    } else if (what == "no code") {
      a.reply(r, map_body(2, [&](Packer& pk) {
        pk.pack("id");
        pk.pack(r.id);
        pk.pack("ok");
        pk.pack(false);
      }));
    } else if (what == "message not str") {
      a.reply(r, map_body(4, [&](Packer& pk) {
        pk.pack("id");
        pk.pack(r.id);
        pk.pack("ok");
        pk.pack(false);
        pk.pack("code");
        pk.pack("x");
        pk.pack("message");
        pk.pack(5);
      }));
    } else if (what == "invalid utf8") {
      a.reply(r, ok_reply(r.id, [](Packer& pk) {
        pk.pack_str(2);
        pk.pack_str_body("\xff\xfe", 2);
      }));
    } else if (what == "twice") {  // two replies to one request: the second is dropped
      a.reply(r, ok_string(r.id, "first"));
      a.reply(r, ok_string(r.id, "second"));
    } else {
      return false;
    }
    return true;
  }));
  auto adapter = connect(*p, fake, 2000);
  adapter->set_request_timeout_ms(300);

  auto run = [&](const std::string& what) {
    const auto start = std::chrono::steady_clock::now();
    const auto o = adapter->execute(echo(*p, what));
    CHECK_MESSAGE(elapsed_ms(start) < 1500, what);
    // Whatever went wrong before, a good request right after gets its own answer.
    CHECK_MESSAGE(describe(adapter->execute(echo(*p, "after " + what))) == "ok after " + what, what);
    return o;
  };
  auto timed_out = [&](const std::string& what, const std::string& unreadable) {
    const auto o = run(what);
    CHECK_MESSAGE(o.code == "timeout", what << ": " << describe(o));
    CHECK(o.retryable);
    if (!unreadable.empty())
      CHECK_MESSAGE(o.message.find("unreadable message(s), the last: " + unreadable) != std::string::npos,
                    what << ": " << o.message);
  };
  timed_out("garbage", "an unreadable reply (the reserved msgpack byte 0xc1)");
  timed_out("wrong id", "");
  timed_out("no id", "a reply without an unsigned int `id`");
  timed_out("silence", "");
  timed_out("huge length", "an unreadable reply (msgpack lengths larger than the message)");
  timed_out("deep", "an unreadable reply (msgpack nested more than 65 containers deep)");
  timed_out("many frames", "a reply of 1000 frames");
  timed_out("no delimiter", "a reply whose frames before the body are not empty delimiters");

  auto failed = [&](const std::string& what, const std::string& message) {
    const auto o = run(what);
    CHECK_MESSAGE(describe(o) == "failed adapter: the adapter at " + fake.endpoint() + " answered `T.Echo` with " + message,
                  what);
  };
  failed("wrong type", "a value that is not of its result type: at value: expected string, got an int");
  failed("no value", "ok but no `value`");
  failed("no ok", "a reply without a bool `ok`");
  failed("ok not bool", "a reply without a bool `ok`");
  failed("no code", "a failure reply without a `code` (a non-empty UTF-8 str of at most 256 bytes)");
  failed("message not str", "a failure reply whose `message` is not a UTF-8 str");
  failed("invalid utf8", "a value that is not of its result type: at value: a string that is not valid UTF-8");
  CHECK(describe(run("twice")) == "ok first");
}

TEST_CASE("observations: wrong types and failures are errors, not crashes") {
  auto p = compile_program(kProgram);
  FakeAdapter fake([](FakeAdapter& a, const FakeRequest& r) {
    if (r.kind == "hello") {
      a.reply(r, hello_reply(r.id, {}, {"T.level"}));
    } else if (r.first_string_arg == "str") {
      a.reply(r, ok_string(r.id, "high"));
    } else if (r.first_string_arg == "fail") {
      a.reply(r, fail_reply(r.id, "not_found", "no such gauge", false));
    } else if (r.first_string_arg == "ok") {
      a.reply(r, ok_reply(r.id, [](Packer& pk) { pk.pack(-3); }));
    }
  });
  auto adapter = connect(*p, fake, 2000);
  adapter->set_request_timeout_ms(300);
  const uint32_t int_type = p->observations.back().result;
  Value v;
  std::string error;
  auto sample = [&](const std::string& arg) {
    const std::vector<Value> args{Value::string(arg)};
    return adapter->sample("T.level", args, int_type, v, error);
  };
  CHECK_FALSE(sample("str"));
  CHECK(error == "adapter: the adapter at " + fake.endpoint() +
                     " answered `T.level` with a value that is not of its type: at value: expected int, got a str");
  CHECK_FALSE(sample("fail"));
  CHECK(error == "not_found: no such gauge");
  CHECK_FALSE(sample("silence"));
  CHECK(error.rfind("timeout: no reply from the adapter at " + fake.endpoint() + " within 300 ms", 0) == 0);
  REQUIRE(sample("ok"));
  CHECK(v.as_int() == -3);
  CHECK_FALSE(adapter->sample("System.env", {}, int_type, v, error));
  CHECK(error.find("does not serve the observation `System.env`") != std::string::npos);
  CHECK_FALSE(adapter->sample("No.such", {}, int_type, v, error));
  CHECK(error == "the program declares no observation `No.such`");
}

TEST_CASE("a bad hello is a clear error at connect, within the timeout") {
  auto p = compile_program(kProgram);
  auto hello_with = [&](std::function<std::string(const FakeRequest&)> answer, int timeout = 500) {
    FakeAdapter fake([&](FakeAdapter& a, const FakeRequest& r) {
      std::string body = answer(r);
      if (!body.empty()) a.reply(r, body);
    });
    std::string error;
    const auto start = std::chrono::steady_clock::now();
    auto adapter = vm::connect_external_adapter(*p, fake.endpoint(), timeout, error);
    CHECK(adapter == nullptr);
    CHECK(elapsed_ms(start) < timeout + 1000);
    const std::string prefix = "the adapter at " + fake.endpoint();
    REQUIRE(error.rfind(prefix, 0) == 0);
    return error.substr(prefix.size());
  };
  CHECK(hello_with([](const FakeRequest&) { return std::string("garbage"); }) ==
        " accepted a connection but did not answer `hello` within 500 ms; meanwhile it sent 1 unreadable "
        "message(s), the last: an unreadable reply (stray bytes after the msgpack map)");
  CHECK(hello_with([](const FakeRequest&) { return std::string(); }) ==
        " accepted a connection but did not answer `hello` within 500 ms");
  CHECK(hello_with([](const FakeRequest& r) { return hello_reply(r.id, {"T.Echo"}, {}, 2); }) ==
        " speaks protocol version 2; this VM speaks version 1");
  CHECK(hello_with([](const FakeRequest& r) { return fail_reply(r.id, "version", "I speak 7", false); }) ==
        " refused `hello`: version: I speak 7");
  CHECK(hello_with([](const FakeRequest& r) { return hello_reply(r.id, {}, {}); }) ==
        " serves no effects and no observations");
  CHECK(hello_with([](const FakeRequest& r) { return hello_reply(r.id, {"T.Echo", "T.Echo"}, {}); }) ==
        " answered `hello` with `T.Echo` twice in `effects`");
  CHECK(hello_with([](const FakeRequest& r) { return ok_string(r.id, "hi"); }) ==
        " answered `hello` with a reply without an int `version`");
  CHECK(hello_with([](const FakeRequest& r) {
          return map_body(4, [&](Packer& pk) {
            pk.pack("id");
            pk.pack(r.id);
            pk.pack("ok");
            pk.pack(true);
            pk.pack("version");
            pk.pack(1);
            pk.pack("effects");
            pk.pack(7);
          });
        }) == " answered `hello` with `effects` that is not an array of non-empty UTF-8 strs");
}

}  // namespace
}  // namespace ved::effects_test
