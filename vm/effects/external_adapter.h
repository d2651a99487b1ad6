// External adapters (runtime.md §7): another process serves effects and observations
// over msgpack on ZeroMQ; `vedvm --adapter NAME=tcp://127.0.0.1:PORT` binds one. The
// protocol is documented in docs/adapters.md ("External adapters: the protocol");
// examples/adapter/ has an example adapter that links nothing of the VM.
//
// The VM side is one DEALER socket per adapter, connected to the adapter's ROUTER (or
// REP), owned by one I/O thread. Callers (worker threads running execute, the runtime
// thread running sample) hand a request to that thread and wait, at most for the request
// timeout, for the reply that carries their request id. A reply that comes after its
// request gave up is recognised by its id and dropped, so a timeout never shifts later
// replies onto the wrong requests (which is why this is not a REQ socket).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vm/effects/adapter.h"
#include "vm/program.h"
#include "vm/value.h"

namespace ved::vm {

// The protocol version this VM speaks (the `version` of every request).
inline constexpr int kExternalProtocolVersion = 1;

class ExternalAdapter;

// Connects to the adapter process at `endpoint` (tcp://host:port, or ipc://path), asks
// what it serves (`hello`), and returns an adapter serving those effects and observations.
// Waits at most `timeout_ms` for the connection and the answer; that is also the request
// timeout of execute and sample (set_request_timeout_ms changes it). Returns null with
// `error` (which names the endpoint and what went wrong) if the endpoint is malformed,
// nothing accepts a connection there, the adapter does not answer in time, answers
// garbage, or speaks another protocol version.
//
// `program` must outlive the adapter: arguments and results are converted with its types.
std::shared_ptr<ExternalAdapter> connect_external_adapter(const Program& program, const std::string& endpoint,
                                                          int timeout_ms, std::string& error);

// Destruction closes the connection (without waiting for replies). It must not race
// with calls in flight: whoever calls execute or sample holds a shared_ptr meanwhile.
class ExternalAdapter final : public EffectAdapter, public ObservationAdapter {
 public:
  ~ExternalAdapter() override;
  ExternalAdapter(const ExternalAdapter&) = delete;
  ExternalAdapter& operator=(const ExternalAdapter&) = delete;

  // Off the core: outcomes arrive whenever the adapter answers.
  bool between_ticks() const override { return false; }

  // Thread-safe; any number of calls may be in flight at once. Outcomes beyond what the
  // adapter itself answers (see docs/adapters.md):
  //   `timeout`, retryable: sent, no answer within the request timeout (the effect may or
  //       may not have happened: hence idempotency keys);
  //   `adapter`, retryable: not delivered (no connection to the adapter within the
  //       timeout, so it certainly did not happen), or the adapter was shut down;
  //   `adapter`, not retryable: the adapter answered with a reply that is malformed or
  //       whose value is not of the effect's result type, or the arguments cannot be
  //       sent (an intent among them);
  //   `NoAdapter`: the adapter did not list this effect in its hello.
  EffectOutcome execute(const EffectRequest& request) override;

  // Thread-safe too (the runtime calls it on its own thread). False with `error` on a
  // failure answer, a malformed reply or a timeout (`timeout: ...`).
  bool sample(const std::string& name, std::span<const Value> args, uint32_t result_type, Value& out,
              std::string& error) override;

  // What the adapter said it serves, in its order.
  const std::vector<std::string>& effects() const;
  const std::vector<std::string>& observations() const;
  bool serves_effect(const std::string& name) const;
  bool serves_observation(const std::string& name) const;

  const std::string& endpoint() const;
  // The name the adapter gave itself in hello (may be empty): for messages.
  const std::string& adapter_name() const;

  // How long execute and sample wait for a reply. Thread-safe; applies to later requests.
  void set_request_timeout_ms(int timeout_ms);
  int request_timeout_ms() const;

 private:
  struct Impl;
  explicit ExternalAdapter(std::unique_ptr<Impl> impl);
  friend std::shared_ptr<ExternalAdapter> connect_external_adapter(const Program&, const std::string&, int,
                                                                   std::string&);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ved::vm
