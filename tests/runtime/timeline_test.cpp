// `vedvm timeline` (docs/timeline.md), checked in a real browser: a run with messages
// among several instances, effects (simulated and built-in) with their outcomes, goals
// satisfied, unsatisfied and terminated, and a fault is written as a page, which headless
// Chromium loads (`--dump-dom`). The page's script fills its summary element with what it
// parsed and drew; those counts must match the journal's (`vedvm stats`), every instance
// must have its lane, and no script error may occur. Also: text from the journal holding
// `</script>` and markup stays text; --from/--to; the data dir is left as it was.
//
// Chromium runs in its own process group with a fresh profile inside the test's temp
// dir, and the whole group is killed when the test ends, passed or failed.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "runtime_support.h"

extern char** environ;

using namespace ved::rt;
namespace fs = std::filesystem;

namespace {

// A coordinator fans out to three workers, which reply; it provisions through a
// simulated effect and appends to a file (built-in, under --fs-root), and writes
// outside the root once (a failed outcome). Worker[2] divides by zero: a fault, so its
// reply never comes and the Acked goal is terminated after 3 attempts, while Provisioned
// is satisfied.
const char* kProgram = R"(
effect Infra.Provision(size: string) -> string : infrastructure

@privilege infrastructure
domain Coordinator {
    state { started: bool  acks: int  provisioned: int  appended: int  failures: int }
    goal Provisioned {
        predicate: provisioned == 2 && appended == 1
        strategy: Start
        terminate_after: 6 attempts
    }
    goal Acked {
        predicate: acks == 3
        strategy: Nudge
        terminate_after: 3 attempts
    }
    transition Start() {
        if !started {
            for i in 0..3 { send Worker[i].Work(n: i) }
            emit Infra.Provision(size: "small")
            emit Infra.Provision(size: "large")
            emit System.AppendFile(path: "log.txt", content: "started\n")
            emit System.AppendFile(path: "../outside.txt", content: "no\n")
            started = true
        }
    }
    transition Nudge() { }
    transition Ack(n: int) { acks = acks + 1 }
    transition Provisioned(id: string) on Infra.Provision.ok { provisioned = provisioned + 1 }
    transition Appended() on System.AppendFile.ok { appended = appended + 1 }
    transition AppendFailed(e: EffectError) on System.AppendFile.failed { failures = failures + 1 }
}

domain Worker {
    state { done: int }
    transition Work(n: int) {
        done = done + 10 / (2 - n)
        reply Ack(n: n)
    }
}
)";

// Text meant to break out of the page: in a state value (a slice record shows it) and
// in an instance id (lanes, send records).
const char* kHostileProgram = R"(
domain Writer {
    state { text: string  done: bool }
    goal Written { predicate: done  strategy: Write }
    transition Write() {
        text = "</script><script>document.body.dataset.pwned = 'state'</script><img src=x onerror=\"document.body.dataset.pwned = 'img'\">&amp;)" "\xE2\x80\xA8" R"("
        send Sink["</script><script>document.body.dataset.pwned='id'</script>"].Take(s: text)
        done = true
    }
}

domain Sink {
    state { got: string }
    transition Take(s: string) { got = s }
}
)";

// ---- Chromium

std::string chromium_path() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(p, X_OK) == 0) return p;
  return "";
}

// Headless Chromium in its own process group; the group is killed on destruction.
class Browser {
 public:
  Browser(const std::vector<std::string>& argv, const fs::path& scratch) : out_(scratch / "chromium.out"), err_(scratch / "chromium.err") {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    const int rc = posix_spawn(&pid_, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  ~Browser() {
    ::kill(-pid_, SIGKILL);  // the browser and every process it started
    if (!reaped_) waitpid(pid_, nullptr, 0);
  }
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // Waits for the browser to exit, at most `timeout`.
  Result wait(std::chrono::seconds timeout) {
    Result r;
    const auto start = std::chrono::steady_clock::now();
    int status = 0;
    while (true) {
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        reaped_ = true;
        r.exited = WIFEXITED(status);
        r.exit_code = r.exited ? WEXITSTATUS(status) : -1;
        r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        break;
      }
      if (std::chrono::steady_clock::now() - start > timeout) {
        r.signal = SIGKILL;
        r.err = "(timed out)\n";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.out = read_file(out_);
    r.err += read_file(err_);
    return r;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  fs::path out_, err_;
};

// The DOM of `page` after its scripts ran (`url_suffix`: e.g. "#event=3").
Result dump_dom(const TempDir& tmp, const fs::path& page, const std::string& url_suffix = "",
                const std::string& window = "1400,1600") {
  static int n = 0;
  const fs::path scratch = tmp.path() / ("browser-" + std::to_string(++n));
  fs::create_directories(scratch);
  Browser b({chromium_path(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
             "--user-data-dir=" + (scratch / "profile").string(), "--window-size=" + window,
             "--enable-logging=stderr", "--v=0", "--dump-dom", "file://" + fs::absolute(page).string() + url_suffix},
            scratch);
  return b.wait(std::chrono::seconds(120));
}

// The summary element's data attributes (`data-events="12"` -> events: "12").
std::map<std::string, std::string> summary_data(const std::string& dom) {
  std::map<std::string, std::string> out;
  const size_t at = dom.find("<footer id=\"summary\"");
  if (at == std::string::npos) return out;
  const std::string tag = dom.substr(at, dom.find('>', at) - at);
  static const std::regex attr(R"re(data-([a-z0-9-]+)="([^"]*)")re");
  for (std::sregex_iterator it(tag.begin(), tag.end(), attr), end; it != end; ++it) out[(*it)[1]] = (*it)[2];
  return out;
}

// The JSON a page embeds (docs/timeline.md).
nlohmann::json page_data(const fs::path& page) {
  const std::string html = read_file(page);
  const std::string open = "<script type=\"application/json\" id=\"ved-data\">";
  const size_t a = html.find(open);
  REQUIRE(a != std::string::npos);
  const size_t b = html.find("</script>", a);
  return nlohmann::json::parse(html.substr(a + open.size(), b - a - open.size()));
}

// The index of the first event of `kind` whose detail contains `text`, or -1.
int64_t find_event(const nlohmann::json& data, const std::string& kind, const std::string& text) {
  const auto& kinds = data.at("kinds");
  const auto& events = data.at("events");
  for (size_t i = 0; i < events.size(); ++i)
    if (kinds.at(events[i].at(2).get<size_t>()) == kind && contains(events[i].at(3).get<std::string>(), text))
      return static_cast<int64_t>(i);
  return -1;
}

// The tooltip's part of a dumped DOM.
std::string tooltip_of(const std::string& dom) {
  const size_t at = dom.find("id=\"tooltip\"");
  return at == std::string::npos ? "" : dom.substr(at, dom.find("</div></div>", at) - at);
}

// `vedvm stats DIR` as kind -> count.
std::map<std::string, int64_t> journal_counts(const std::string& dir) {
  Result r = vedvm_run({"stats", dir});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::map<std::string, int64_t> counts;
  std::istringstream in(r.out);
  std::string line;
  static const std::regex count(R"(^  ([a-z_]+): (\d+)$)");
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.rfind("slice time", 0) == 0) break;
    if (std::regex_match(line, m, count)) counts[m[1]] = std::stoll(m[2]);
  }
  return counts;
}

// Every file under `dir` with its size and modification time: what a reader must not change.
std::map<std::string, std::string> listing(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    ::stat(e.path().c_str(), &st);
    out[fs::relative(e.path(), dir).string()] =
        std::to_string(st.st_size) + "@" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  }
  return out;
}

// Checks a loaded page: it rendered without a script error.
void check_no_script_error(const Result& browser, const std::string& dom) {
  CHECK_MESSAGE(browser.exit_code == 0, describe(browser) << "\n" << browser.err.substr(0, 4000));
  CHECK_MESSAGE(!contains(browser.err, "Uncaught"), browser.err.substr(0, 4000));
  CHECK_MESSAGE(contains(dom, "<pre id=\"errors\"></pre>"), dom.substr(0, 2000));
  CHECK(summary_data(dom)["status"] == "ok");
}

struct Run {
  std::string data_dir;
  std::map<std::string, int64_t> counts;  // journal records by kind
};

Run run_program(const TempDir& tmp) {
  write_file(tmp.path() / "fanout.ved", kProgram);
  const fs::path root = tmp.path() / "root";
  fs::create_directories(root);
  Run run;
  run.data_dir = tmp / "data";
  Result r = vedvm_run({tmp / "fanout.ved", "--data-dir", run.data_dir, "--sync=none", "--fs-root", root.string(),
                        "--effect", "Infra.Provision=ok:\"vm-1\""});
  // A fault: exit 3.
  REQUIRE_MESSAGE(r.exit_code == 3, describe(r) << "\n" << r.out << r.err);
  run.counts = journal_counts(run.data_dir);
  return run;
}

}  // namespace

TEST_CASE("timeline: a run with messages, effects, goals and a fault, rendered in Chromium") {
  if (chromium_path().empty()) {
    MESSAGE("chromium is not installed (scripts/install-deps.sh installs it): skipped");
    return;
  }
  TempDir tmp;
  const Run run = run_program(tmp);
  // The run has every kind of thing the page draws.
  for (const char* kind : {"slice", "send", "emit", "outcome", "goal", "fault"})
    CHECK_MESSAGE(run.counts.count(kind), kind);

  const auto before = listing(run.data_dir);
  const fs::path page = tmp.path() / "out" / "run.html";
  fs::create_directories(page.parent_path());
  Result w = vedvm_run({"timeline", run.data_dir, "-o", page.string()});
  REQUIRE_MESSAGE(w.exit_code == 0, describe(w) << "\n" << w.out << w.err);
  CHECK(contains(w.out, "run.html: "));
  // Reading wrote nothing into the data dir.
  CHECK(listing(run.data_dir) == before);

  // Self-contained: nothing loaded from elsewhere.
  const std::string html = read_file(page);
  for (const char* external : {"<script src", "<link", "http://", "https://", "@import", "url("})
    CHECK_MESSAGE(!contains(html, external), external);

  Result b = dump_dom(tmp, page);
  const std::string& dom = b.out;
  check_no_script_error(b, dom);
  auto s = summary_data(dom);

  // Counts: every journal record but the `state` ones, per kind.
  int64_t events = 0;
  for (const auto& [kind, n] : run.counts) {
    if (kind == "state") continue;
    events += n;
    std::string attribute = "kind-" + kind;
    std::replace(attribute.begin(), attribute.end(), '_', '-');
    CHECK_MESSAGE(s[attribute] == std::to_string(n), kind);
  }
  CHECK(s["events"] == std::to_string(events));
  CHECK(s["arrows"] == std::to_string(run.counts.at("send")));
  // The first frame shows the whole run (the window is tall enough for every lane):
  // every message as an arrow, every other event as a mark.
  CHECK(s["drawn-arrows"] == std::to_string(run.counts.at("send")));
  CHECK(s["drawn-items"] == std::to_string(events - run.counts.at("send")));

  // A lane per instance.
  Result inspected = vedvm_run({"inspect", run.data_dir, "--json"});
  REQUIRE(inspected.exit_code == 0);
  const auto instances = inspected_instances(inspected.out);
  CHECK(instances.size() == 4);  // Coordinator, Worker[0..2]
  CHECK(s["lanes"] == std::to_string(instances.size()));
  CHECK(s["drawn-lanes"] == std::to_string(instances.size()));
  for (const auto& [name, in] : instances) CHECK_MESSAGE(contains(dom, "<option value=\"" + name + "\">"), name);
  // The filters name the domains and kinds.
  CHECK(contains(dom, "data-domain=\"0\""));
  CHECK(contains(dom, "data-kind=\"fault\""));

  // The interactions (hovering everywhere, zooming, panning, the idle-ticks axis, each
  // filter, going to an instance), run by the page itself (#selftest): no script error,
  // and hovering found things.
  Result interactions = dump_dom(tmp, page, "#selftest");
  check_no_script_error(interactions, interactions.out);
  const auto after = summary_data(interactions.out);
  CHECK_MESSAGE(after.count("selftest"), interactions.out.substr(0, 3000));
  CHECK(std::stoll(after.count("selftest") ? after.at("selftest") : "0") > 100);
  CHECK(after.at("drawn-arrows") == std::to_string(run.counts.at("send")));  // fitted again at the end

  // An event shown from the URL (#event=N) puts its detail in the tooltip as text: the
  // fault of Worker[2].
  const auto data = page_data(page);
  CHECK(data.at("events").size() == static_cast<size_t>(events));
  const int64_t fault = find_event(data, "fault", "division by zero");
  REQUIRE(fault >= 0);
  Result fault_view = dump_dom(tmp, page, "#event=" + std::to_string(fault));
  check_no_script_error(fault_view, fault_view.out);
  const std::string tip = tooltip_of(fault_view.out);
  CHECK_MESSAGE(contains(tip, "Worker[2] · fault"), tip);
  CHECK(contains(tip, "division by zero"));
  // And a message: where it goes.
  const int64_t send = find_event(data, "send", "Worker[1].Work");
  REQUIRE(send >= 0);
  Result send_view = dump_dom(tmp, page, "#event=" + std::to_string(send));
  check_no_script_error(send_view, send_view.out);
  CHECK_MESSAGE(contains(tooltip_of(send_view.out), "to Worker[1]"), tooltip_of(send_view.out));
}

TEST_CASE("timeline: text from the journal cannot inject markup or script") {
  if (chromium_path().empty()) {
    MESSAGE("chromium is not installed: skipped");
    return;
  }
  TempDir tmp;
  write_file(tmp.path() / "hostile.ved", kHostileProgram);
  const std::string data = tmp / "data";
  Result r = vedvm_run({tmp / "hostile.ved", "--data-dir", data, "--sync=none"});
  REQUIRE_MESSAGE(r.exit_code == 0, describe(r) << "\n" << r.out << r.err);
  const fs::path page = tmp.path() / "hostile.html";
  Result w = vedvm_run({"timeline", data, "-o", page.string()});
  REQUIRE_MESSAGE(w.exit_code == 0, w.err);

  // In the file the journal's text never appears raw: `</script>` only ends the page's
  // own two script elements.
  const std::string html = read_file(page);
  size_t closings = 0;
  for (size_t at = html.find("</script>"); at != std::string::npos; at = html.find("</script>", at + 1)) ++closings;
  CHECK(closings == 2);
  CHECK(contains(html, "\\u003c/script\\u003e"));
  CHECK_FALSE(contains(html, "<img src=x"));

  CHECK(contains(html, "\\u2028"));
  CHECK_FALSE(contains(html, "\xE2\x80\xA8"));

  int64_t events = 0;
  for (const auto& [kind, n] : journal_counts(data))
    if (kind != "state") events += n;
  const auto parsed = page_data(page);
  // The page's own data holds the text whole.
  const int64_t slice = find_event(parsed, "slice", "</script><script>document.body.dataset.pwned = 'state'");
  const int64_t send = find_event(parsed, "send", "Sink[\"</script>");
  REQUIRE(slice >= 0);
  REQUIRE(send >= 0);
  // The page, and the page with the hostile slice's and message's details shown as if
  // hovered: no injected script ran, no injected element exists, and the text is text.
  for (const std::string& suffix : {std::string(), "#event=" + std::to_string(slice), "#event=" + std::to_string(send)}) {
    CAPTURE(suffix);
    Result b = dump_dom(tmp, page, suffix);
    const std::string& dom = b.out;
    check_no_script_error(b, dom);
    auto s = summary_data(dom);
    CHECK(s["events"] == std::to_string(events));
    CHECK(s["lanes"] == "2");
    CHECK_FALSE(contains(dom, "data-pwned"));
    CHECK_FALSE(contains(dom, "<img"));
    CHECK_FALSE(contains(dom, "<script>document"));
    CHECK(contains(dom, "<option value=\"Sink[&quot;"));
    if (suffix.empty()) continue;
    const std::string tip = tooltip_of(dom);
    CHECK_MESSAGE(contains(tip, "&lt;/script&gt;&lt;script&gt;document.body.dataset.pwned"), tip);
  }
}

TEST_CASE("timeline: --from and --to keep a range of ticks, and wrong options are refused") {
  if (chromium_path().empty()) {
    MESSAGE("chromium is not installed: skipped");
    return;
  }
  TempDir tmp;
  const Run run = run_program(tmp);

  // The records of ticks 2..3 from `inspect --tick`, without `state`.
  std::map<std::string, int64_t> expected;
  int64_t expected_total = 0, sends_to_shown = 0;
  for (int tick = 2; tick <= 3; ++tick) {
    Result j = vedvm_run({"inspect", run.data_dir, "--tick", std::to_string(tick)});
    REQUIRE_MESSAGE(j.exit_code == 0, j.err);
    std::istringstream in(j.out);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::string t, instance, kind;
      words >> t >> instance >> kind;
      if (kind == "state") continue;
      ++expected[kind];
      ++expected_total;
      if (kind == "send") ++sends_to_shown;
    }
  }
  REQUIRE(expected_total > 0);
  const fs::path page = tmp.path() / "range.html";
  Result w = vedvm_run({"timeline", run.data_dir, "-o", page.string(), "--from", "2", "--to", "3"});
  REQUIRE_MESSAGE(w.exit_code == 0, w.err);
  CHECK(contains(w.out, "ticks 2..3"));
  Result b = dump_dom(tmp, page);
  check_no_script_error(b, b.out);
  auto s = summary_data(b.out);
  CHECK(s["events"] == std::to_string(expected_total));
  CHECK(s["first-tick"] == "2");
  CHECK(s["last-tick"] == "3");
  CHECK(s["arrows"] == std::to_string(sends_to_shown));
  for (const auto& [kind, n] : expected) {
    std::string attribute = "kind-" + kind;
    std::replace(attribute.begin(), attribute.end(), '_', '-');
    CHECK_MESSAGE(s[attribute] == std::to_string(n), kind);
  }

  // A range with nothing in it: an empty page, and a note.
  Result empty = vedvm_run({"timeline", run.data_dir, "-o", (tmp / "empty.html"), "--from", "100000"});
  CHECK(empty.exit_code == 0);
  CHECK(contains(empty.err, "no journal records in ticks 100000.."));
  Result eb = dump_dom(tmp, tmp.path() / "empty.html");
  check_no_script_error(eb, eb.out);
  CHECK(summary_data(eb.out)["events"] == "0");

  // Errors: --from after --to; no data dir; the output inside the data dir.
  Result backwards = vedvm_run({"timeline", run.data_dir, "--from", "5", "--to", "2", "-o", tmp / "x.html"});
  CHECK(backwards.exit_code == 64);
  CHECK(contains(backwards.err, "--from 5 is after --to 2"));
  Result missing = vedvm_run({"timeline", tmp / "nothing", "-o", tmp / "x.html"});
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.err, "no data dir"));
  const auto before = listing(run.data_dir);
  Result inside = vedvm_run({"timeline", run.data_dir, "-o", run.data_dir + "/t.html"});
  CHECK(inside.exit_code == 64);
  CHECK(contains(inside.err, "inside the data dir"));
  Result deeper = vedvm_run({"timeline", run.data_dir + "/", "-o", run.data_dir + "/sub/t.html"});
  CHECK(deeper.exit_code == 64);
  CHECK(contains(deeper.err, "inside the data dir"));
  CHECK(listing(run.data_dir) == before);
  CHECK_FALSE(fs::exists(tmp.path() / "x.html"));
}

TEST_CASE("timeline: the default output is timeline.html in the current directory") {
  TempDir tmp;
  write_file(tmp.path() / "hello.ved", R"(
domain Counter {
    state { value: int }
    goal Stable { predicate: value == 3  strategy: Increment }
    transition Increment() { value = value + 1 }
}
)");
  const std::string data = tmp / "data";
  Result r = vedvm_run({tmp / "hello.ved", "--data-dir", data, "--sync=none"});
  REQUIRE(r.exit_code == 0);
  // vedvm inherits the test's working directory: the temp dir, for this run.
  struct Chdir {
    fs::path back = fs::current_path();
    explicit Chdir(const fs::path& to) { fs::current_path(to); }
    ~Chdir() { fs::current_path(back); }
  };
  Result w;
  {
    Chdir in(tmp.path());
    w = vedvm_run({"timeline", data});
  }
  CHECK_MESSAGE(w.exit_code == 0, w.err);
  CHECK(fs::exists(tmp.path() / "timeline.html"));
  CHECK(contains(read_file(tmp.path() / "timeline.html"), "\"program\":\"hello\""));
}
