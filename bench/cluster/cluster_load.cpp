// Load generator for bench/cluster/run.sh: commits entries of a given size with C
// proposals in flight, for S seconds, against a Ved cluster or an etcd cluster, and
// prints one line: `committed/s p50_ms p99_ms count`.
//
//   cluster_load ved HOST:PORT SIZE CONCURRENCY SECONDS
//       Propose requests carrying an Outcome journal entry of SIZE payload bytes, sent
//       to the leader (found through HOST:PORT) over one plaintext DEALER socket; a
//       request counts when the leader answers it committed and applied.
//   cluster_load etcd http://HOST:PORT SIZE CONCURRENCY SECONDS
//       PUTs through etcd's v3 JSON gateway (POST /v3/kv/put), CONCURRENCY connections
//       kept alive by libcurl's multi interface; a PUT counts when etcd answers 200.
//   cluster_load commit-once HOST:PORT TIMEOUT_MS
//       one entry, retried until committed: prints the milliseconds it took
#include <curl/curl.h>
#include <zmq.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "cluster/client.h"
#include "cluster/journal_entry.h"
#include "cluster/wire_message.h"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

void report(std::vector<double>& latencies, double seconds) {
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))];
  };
  std::printf("%.1f %.3f %.3f %zu\n", latencies.size() / seconds, pct(0.50), pct(0.99), latencies.size());
}

int run_ved(const std::string& address, size_t size, int concurrency, double seconds) {
  ved::cluster::Security insecure;
  insecure.insecure = true;
  ved::cluster::ClusterClient finder(insecure);
  ved::cluster::ClientRequest status;
  status.kind = ved::cluster::ClientRequest::Status;
  ved::cluster::ClientReply reply;
  std::string error, leader = address;
  // The leader's address: the member's status names it.
  if (finder.call(address, status, 5000, reply, error)) {
    const auto at = reply.payload.find("\"leader\":{\"node\":");
    if (at != std::string::npos) {
      const auto a = reply.payload.find("\"address\":\"", at);
      const auto b = reply.payload.find('"', a + 11);
      leader = reply.payload.substr(a + 11, b - a - 11);
    }
  }
  void* context = zmq_ctx_new();
  void* socket = zmq_socket(context, ZMQ_DEALER);
  int zero = 0;
  zmq_setsockopt(socket, ZMQ_LINGER, &zero, sizeof zero);
  zmq_connect(socket, ("tcp://" + leader).c_str());
  // Outcome entries on 64 keys, overwritten: the state stays as small as etcd's, whose
  // PUTs go to 64 keys too (an ever-growing state would measure snapshot size instead).
  std::vector<std::string> entries;
  for (int k = 0; k < 64; ++k)
    entries.push_back(ved::cluster::encode_entry(ved::cluster::OutcomeEntry{"bench-key-" + std::to_string(k), std::string(size, 'x')}));
  std::map<uint64_t, Clock::time_point> in_flight;
  uint64_t sequence = 1;
  auto send_one = [&] {
    ved::cluster::ClientRequest r;
    r.kind = ved::cluster::ClientRequest::Propose;
    r.sequence = sequence;
    r.entry = entries[sequence % entries.size()];
    const std::string bytes = ved::cluster::encode_wire(ved::cluster::WireMessage{"", 0, "", r});
    in_flight[sequence++] = Clock::now();
    zmq_send(socket, bytes.data(), bytes.size(), 0);
  };
  std::vector<double> latencies;
  const auto start = Clock::now();
  for (int i = 0; i < concurrency; ++i) send_one();
  int failures = 0;
  while (ms_since(start) < seconds * 1000) {
    zmq_pollitem_t item{socket, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, 1000) <= 0) continue;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    zmq_msg_recv(&msg, socket, 0);
    ved::cluster::WireMessage m;
    std::string why;
    const bool ok = ved::cluster::decode_wire(std::string_view(static_cast<char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg)), m, why);
    zmq_msg_close(&msg);
    if (!ok) continue;
    const auto* r = std::get_if<ved::cluster::ClientReply>(&m.body);
    if (!r || !in_flight.count(r->sequence)) continue;
    if (r->status == ved::cluster::ClientReply::Ok) latencies.push_back(ms_since(in_flight[r->sequence]));
    else if (++failures < 3) std::fprintf(stderr, "cluster_load: a proposal failed: %s\n", r->message.c_str());
    in_flight.erase(r->sequence);
    send_one();
  }
  zmq_close(socket);
  zmq_ctx_term(context);
  report(latencies, ms_since(start) / 1000);
  return latencies.empty() ? 1 : 0;
}

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

int run_etcd(const std::string& url, size_t size, int concurrency, double seconds) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM* multi = curl_multi_init();
  // The gateway takes keys and values in base64.
  auto base64 = [](const std::string& raw) {
    static const char* b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    for (size_t i = 0; i < raw.size(); i += 3) {
      uint32_t n = static_cast<unsigned char>(raw[i]) << 16;
      if (i + 1 < raw.size()) n |= static_cast<unsigned char>(raw[i + 1]) << 8;
      if (i + 2 < raw.size()) n |= static_cast<unsigned char>(raw[i + 2]);
      out += b64[(n >> 18) & 63];
      out += b64[(n >> 12) & 63];
      out += i + 1 < raw.size() ? b64[(n >> 6) & 63] : '=';
      out += i + 2 < raw.size() ? b64[n & 63] : '=';
    }
    return out;
  };
  const std::string value = base64(std::string(size, 'x'));
  struct Slot {
    CURL* easy;
    std::string body;
    Clock::time_point started;
    curl_slist* headers;
  };
  std::vector<Slot> slots(concurrency);
  const std::string endpoint = url + "/v3/kv/put";
  for (int i = 0; i < concurrency; ++i) {
    Slot& s = slots[i];
    s.easy = curl_easy_init();
    s.body = "{\"key\":\"" + base64("bench-key-" + std::to_string(i % 64)) + "\",\"value\":\"" + value + "\"}";
    s.headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(s.easy, CURLOPT_URL, endpoint.c_str());
    curl_easy_setopt(s.easy, CURLOPT_POSTFIELDS, s.body.c_str());
    curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, s.headers);
    curl_easy_setopt(s.easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
    s.started = Clock::now();
    curl_multi_add_handle(multi, s.easy);
  }
  std::vector<double> latencies;
  const auto start = Clock::now();
  int failures = 0;
  while (ms_since(start) < seconds * 1000) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* m = curl_multi_info_read(multi, &queued)) {
      if (m->msg != CURLMSG_DONE) continue;
      Slot* s = nullptr;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &s);
      long code = 0;
      curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &code);
      if (m->data.result == CURLE_OK && code == 200) latencies.push_back(ms_since(s->started));
      else if (++failures < 3) std::fprintf(stderr, "cluster_load: an etcd put failed (HTTP %ld)\n", code);
      curl_multi_remove_handle(multi, s->easy);
      s->started = Clock::now();
      curl_multi_add_handle(multi, s->easy);
    }
    curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  report(latencies, ms_since(start) / 1000);
  for (auto& s : slots) {
    curl_multi_remove_handle(multi, s.easy);
    curl_easy_cleanup(s.easy);
    curl_slist_free_all(s.headers);
  }
  curl_multi_cleanup(multi);
  return latencies.empty() ? 1 : 0;
}

}  // namespace

// Commits one entry through the member at `address`, retrying (with redirects) until it is
// committed; prints the milliseconds it took. Run right after killing a leader, it
// measures failover: kill -9 to a new leader committing.
int commit_once(const std::string& address, int timeout_ms) {
  ved::cluster::Security insecure;
  insecure.insecure = true;
  ved::cluster::ClusterClient client(insecure);
  ved::cluster::ClientRequest r;
  r.kind = ved::cluster::ClientRequest::Propose;
  r.entry = ved::cluster::encode_entry(ved::cluster::ExternalEntry{"failover"});
  ved::cluster::ClientReply reply;
  std::string error;
  const auto start = Clock::now();
  if (!client.call_leader(address, r, timeout_ms, reply, error) || reply.status != ved::cluster::ClientReply::Ok) {
    std::fprintf(stderr, "cluster_load: not committed: %s\n", error.c_str());
    return 1;
  }
  std::printf("%.1f\n", ms_since(start));
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "commit-once") return commit_once(argv[2], std::stoi(argv[3]));
  if (argc != 6) {
    std::fprintf(stderr, "usage: cluster_load ved|etcd ADDRESS SIZE CONCURRENCY SECONDS\n");
    return 2;
  }
  const std::string kind = argv[1], address = argv[2];
  const size_t size = std::stoul(argv[3]);
  const int concurrency = std::stoi(argv[4]);
  const double seconds = std::stod(argv[5]);
  return kind == "ved" ? run_ved(address, size, concurrency, seconds) : run_etcd(address, size, concurrency, seconds);
}
