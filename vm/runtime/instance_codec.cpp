// Layout (msgpack arrays; values are bin fields holding value_codec encodings):
//
//   instance  = [format 2, domain, id, state, faulted, next mailbox position,
//                continuation or nil, [timers], rng text, [goals], [outbox], effects in flight]
//   (mailbox entries are keys of their own: mbox/<domain>/<id>/<lane h|n><position>)
//   message   = [transition, high, from instance, sender domain, sender id, self attempt, [args],
//                effect outcome]
//   id        = [0] default | [1, int] | [2, string]
//   continuation = [transition, next slice, [register values], message]
//   timer     = [due, sequence, message]
//   goal      = [attempts, satisfied, terminated, reason, unsatisfied since, next attempt,
//                [seen hashes], last hash, outside input since the last attempt]
//   (then) last fault, last failed effect, dead letters
//   format 3 = format 2 and one more element: the last fault in parts,
//              [where, kind, message, function, file, line, column] (FaultInfo).
//   Written only by an instance that has faulted since (so that a data dir whose
//   instances never faulted keeps exactly the bytes it had); read: both. A vedvm built
//   before format 3 refuses a data dir holding a format 3 record (it reports the record
//   as malformed): going back to an older vedvm needs a data dir without faults since.
//   intent    = [format 1, tick, index, domain, id, effect, [args], key or nil, ordinal,
//                dispatches, completed, outcome or nil (present: arrived or completed)]
//   outcome   = [ok, value (bin) or nil, code, message, retryable]
//   outcome input = [effect, intent id, outcome]
//   observation input = [observation, [args], value (bin) or nil, failure message]
#include "vm/runtime/instance_codec.h"

#include <msgpack.hpp>

#include "vm/runtime/store.h"
#include "vm/string_sink.h"
#include "vm/value_codec.h"

namespace ved::vm {

namespace {

// What a record's string starts with: most are a few dozen bytes, and growing it from
// empty would reallocate it several times.
constexpr size_t kSmallBuffer = 128;
// The most a thread keeps of the buffer values are encoded into (bin_value).
constexpr size_t kKeptScratchBytes = 64 * 1024;

using Packer = msgpack::packer<StringSink>;
using Obj = msgpack::object;

struct CodecError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void bin(Packer& p, const std::string& bytes) {
  p.pack_bin(static_cast<uint32_t>(bytes.size()));
  p.pack_bin_body(bytes.data(), static_cast<uint32_t>(bytes.size()));
}

// A record being packed: msgpack writes straight into `out`, which starts with room for
// a small record.
struct RecordPacker {
  std::string out;
  StringSink sink{out};
  Packer p{sink};
  RecordPacker() { out.reserve(kSmallBuffer); }
};

// A value's encoding as a bin field. Encoded first into a buffer this thread keeps (the
// bin's header holds its length): every message and changed instance has values in it.
void bin_value(Packer& p, const Value& v) {
  thread_local std::string scratch;
  scratch.clear();
  encode_value(v, scratch);
  bin(p, scratch);
  // A large value's room is given back, not kept for the rest of the process.
  if (scratch.capacity() > kKeptScratchBytes) std::string().swap(scratch);
}

void pack_id(Packer& p, const Value& id) {
  if (id.tag() == Tag::Int) {
    p.pack_array(2);
    p.pack(1);
    p.pack(id.as_int());
  } else if (id.tag() == Tag::String) {
    p.pack_array(2);
    p.pack(2);
    p.pack(id.as_string());
  } else {
    p.pack_array(1);
    p.pack(0);
  }
}

void pack_message(Packer& p, const Message& m) {
  p.pack_array(8);
  p.pack(m.transition);
  p.pack(m.high_lane);
  p.pack(m.from_instance);
  p.pack(m.sender.domain);
  pack_id(p, m.sender.id);
  p.pack(m.self_attempt);
  p.pack_array(static_cast<uint32_t>(m.args.size()));
  for (const auto& a : m.args) bin_value(p, a);
  p.pack(m.outcome);
}

// ---- reading

const Obj* arr(const Obj& o, size_t n, const char* what) {
  if (o.type != msgpack::type::ARRAY || (n != SIZE_MAX && o.via.array.size != n))
    throw CodecError(std::string("malformed ") + what);
  return o.via.array.ptr;
}
uint64_t u64(const Obj& o, const char* what) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) throw CodecError(std::string("malformed ") + what);
  return o.via.u64;
}
int64_t i64(const Obj& o, const char* what) {
  if (o.type == msgpack::type::POSITIVE_INTEGER && o.via.u64 <= static_cast<uint64_t>(INT64_MAX))
    return static_cast<int64_t>(o.via.u64);
  if (o.type == msgpack::type::NEGATIVE_INTEGER) return o.via.i64;
  throw CodecError(std::string("malformed ") + what);
}
bool boolean(const Obj& o, const char* what) {
  if (o.type != msgpack::type::BOOLEAN) throw CodecError(std::string("malformed ") + what);
  return o.via.boolean;
}
std::string str(const Obj& o, const char* what) {
  if (o.type != msgpack::type::STR) throw CodecError(std::string("malformed ") + what);
  return std::string(o.via.str.ptr, o.via.str.size);
}
Value value(const Program& p, const Obj& o, uint32_t type, const char* what) {
  if (o.type != msgpack::type::BIN) throw CodecError(std::string("malformed ") + what);
  Value v;
  std::string error;
  if (!decode_value(p, std::string_view(o.via.bin.ptr, o.via.bin.size), type, v, error))
    throw CodecError(std::string(what) + ": " + error);
  return v;
}
Value id(const Obj& o) {
  const Obj* x = arr(o, SIZE_MAX, "instance id");
  if (o.via.array.size == 1 && u64(x[0], "instance id") == 0) return Value();
  if (o.via.array.size == 2 && u64(x[0], "instance id") == 1) return Value::integer(i64(x[1], "instance id"));
  if (o.via.array.size == 2 && u64(x[0], "instance id") == 2) {
    std::string s = str(x[1], "instance id");
    if (!is_valid_utf8(s)) throw CodecError("instance id is not valid UTF-8");
    return Value::string(std::move(s));
  }
  throw CodecError("malformed instance id");
}

uint32_t domain_index(const Program& p, const Obj& o) {
  uint64_t d = u64(o, "domain");
  if (d >= p.domains.size()) throw CodecError("domain " + std::to_string(d) + " is not in this program");
  return static_cast<uint32_t>(d);
}

Message message(const Program& p, const Obj& o, uint32_t receiver_domain) {
  const Obj* x = arr(o, 8, "message");
  Message m;
  uint64_t t = u64(x[0], "message");
  const auto& transitions = p.domains[receiver_domain].transitions;
  if (t >= transitions.size()) throw CodecError("message names a transition that does not exist");
  m.transition = static_cast<uint32_t>(t);
  m.high_lane = boolean(x[1], "message");
  m.from_instance = boolean(x[2], "message");
  m.sender.domain = domain_index(p, x[3]);
  m.sender.id = id(x[4]);
  m.self_attempt = boolean(x[5], "message");
  const Obj* args = arr(x[6], transitions[t].params.size(), "message arguments");
  for (size_t i = 0; i < transitions[t].params.size(); ++i)
    m.args.push_back(value(p, args[i], transitions[t].params[i].type, "message argument"));
  m.outcome = boolean(x[7], "message");
  return m;
}

void pack_outcome(Packer& p, const EffectOutcome& o) {
  p.pack_array(5);
  p.pack(o.ok);
  if (o.ok) bin_value(p, o.value);
  else p.pack_nil();
  p.pack(o.code);
  p.pack(o.message);
  p.pack(o.retryable);
}

EffectOutcome outcome(const Program& p, const Obj& o, uint32_t effect) {
  const Obj* x = arr(o, 5, "outcome");
  EffectOutcome out;
  out.ok = boolean(x[0], "outcome");
  if (out.ok) out.value = value(p, x[1], p.effects[effect].result, "outcome value");
  else if (x[1].type != msgpack::type::NIL) throw CodecError("malformed outcome");
  out.code = str(x[2], "outcome");
  out.message = str(x[3], "outcome");
  out.retryable = boolean(x[4], "outcome");
  return out;
}

msgpack::object_handle parse(std::string_view bytes) {
  std::size_t offset = 0;
  msgpack::object_handle h = msgpack::unpack(
      bytes.data(), bytes.size(), offset, nullptr, nullptr,
      msgpack::unpack_limit(bytes.size(), bytes.size(), bytes.size(), bytes.size(), 0, 64));
  if (offset != bytes.size()) throw CodecError("stray bytes after the record");
  return h;
}

}  // namespace

std::string encode_instance(const Instance& in) {
  RecordPacker record;
  Packer& p = record.p;
  const bool parts = in.last_fault_info != nullptr;
  p.pack_array(parts ? 16 : 15);
  p.pack(parts ? 3 : 2);
  p.pack(in.key.domain);
  pack_id(p, in.key.id);
  bin_value(p, in.state);
  p.pack(in.faulted);
  p.pack(in.next_position);
  if (in.continuation) {
    const PendingTransition& c = *in.continuation;
    p.pack_array(4);
    p.pack(c.transition);
    p.pack(c.next_slice);
    p.pack_array(static_cast<uint32_t>(c.registers.size()));
    for (const auto& r : c.registers) bin_value(p, r);
    pack_message(p, c.message);
  } else {
    p.pack_nil();
  }
  p.pack_array(static_cast<uint32_t>(in.timers.size()));
  for (const auto& t : in.timers) {
    p.pack_array(3);
    p.pack(t.due);
    p.pack(t.sequence);
    pack_message(p, t.message);
  }
  p.pack_array(2);
  p.pack(in.random.seed());
  p.pack(in.random.draws());
  p.pack_array(static_cast<uint32_t>(in.goals.size()));
  for (const auto& g : in.goals) {
    p.pack_array(9);
    p.pack(g.attempts);
    p.pack(g.satisfied);
    p.pack(g.terminated);
    p.pack(g.reason);
    p.pack(g.unsatisfied_since);
    p.pack(g.next_attempt);
    p.pack_array(static_cast<uint32_t>(g.seen.size()));
    for (uint64_t h : g.seen) p.pack(h);
    p.pack(g.last_hash);
    p.pack(g.outside_input);
  }
  p.pack_array(static_cast<uint32_t>(in.outbox.size()));
  for (const auto& o : in.outbox) {
    p.pack_array(3);
    p.pack(o.target.domain);
    pack_id(p, o.target.id);
    pack_message(p, o.message);
  }
  p.pack(in.effects_in_flight);
  p.pack(in.last_fault);
  p.pack(in.last_failed_effect);
  p.pack(in.dead_letters);
  if (parts) {
    const FaultInfo& f = *in.last_fault_info;
    p.pack_array(7);
    p.pack(f.where);
    p.pack(f.kind);
    p.pack(f.message);
    p.pack(f.function);
    p.pack(f.file);
    p.pack(f.line);
    p.pack(f.column);
  }
  return std::move(record.out);
}

bool decode_instance(const Program& p, std::string_view bytes, Instance& out, std::string& error) {
  try {
    msgpack::object_handle h = parse(bytes);
    const Obj* x = arr(h.get(), SIZE_MAX, "instance");
    const size_t size = h.get().via.array.size;
    const uint64_t format = size > 0 ? u64(x[0], "instance format") : 0;
    if (format != 2 && format != 3) throw CodecError("unknown instance record format");
    if (size != (format == 2 ? 15u : 16u)) throw CodecError("malformed instance");
    Instance in;
    in.key.domain = domain_index(p, x[1]);
    in.key.id = id(x[2]);
    const DomainInfo& d = p.domains[in.key.domain];
    in.state = value(p, x[3], d.state_type, "state");
    in.faulted = boolean(x[4], "instance");
    in.next_position = u64(x[5], "instance");
    if (x[6].type != msgpack::type::NIL) {
      const Obj* c = arr(x[6], 4, "continuation");
      PendingTransition k;
      uint64_t t = u64(c[0], "continuation");
      if (t >= d.transitions.size()) throw CodecError("continuation of a transition that does not exist");
      k.transition = static_cast<uint32_t>(t);
      const FunctionInfo& f = p.functions[d.transitions[t].function];
      uint64_t slice = u64(c[1], "continuation");
      if (slice == 0 || slice >= f.slice_entries.size()) throw CodecError("continuation of a slice that does not exist");
      k.next_slice = static_cast<uint32_t>(slice);
      const Obj* regs = arr(c[2], f.registers.size(), "continuation registers");
      for (size_t r = 0; r < f.registers.size(); ++r) {
        // A register not yet written holds unit when the slice yields. It is read only
        // after it is written (the verifier proves it), but it must still hold a value of
        // its type, whatever a damaged record says: it gets the type's zero value.
        if (regs[r].type != msgpack::type::BIN) throw CodecError("malformed continuation register");
        Value v;
        std::string e;
        std::string_view b(regs[r].via.bin.ptr, regs[r].via.bin.size);
        if (!decode_value(p, b, f.registers[r], v, e)) {
          if (b != encode_value(Value())) throw CodecError("continuation register: " + e);
          v = zero_value(p, f.registers[r]);
        }
        k.registers.push_back(std::move(v));
      }
      k.message = message(p, c[3], in.key.domain);
      in.continuation = std::make_unique<PendingTransition>(std::move(k));
    }
    const Obj* timers = arr(x[7], SIZE_MAX, "timers");
    for (uint32_t i = 0; i < x[7].via.array.size; ++i) {
      const Obj* t = arr(timers[i], 3, "timer");
      in.timers.push_back(Timer{i64(t[0], "timer"), u64(t[1], "timer"), message(p, t[2], in.key.domain)});
    }
    {
      const Obj* rng = arr(x[8], 2, "random generator");
      in.random = Random(u64(rng[0], "random generator"), u64(rng[1], "random generator"));
    }
    const Obj* goals = arr(x[9], d.goals.size(), "goals");
    for (size_t g = 0; g < d.goals.size(); ++g) {
      const Obj* v = arr(goals[g], 9, "goal");
      GoalProgress gp;
      gp.attempts = i64(v[0], "goal");
      gp.satisfied = boolean(v[1], "goal");
      gp.terminated = boolean(v[2], "goal");
      gp.reason = str(v[3], "goal");
      gp.unsatisfied_since = i64(v[4], "goal");
      gp.next_attempt = i64(v[5], "goal");
      const Obj* seen = arr(v[6], SIZE_MAX, "goal");
      for (uint32_t k = 0; k < v[6].via.array.size; ++k) gp.seen.push_back(u64(seen[k], "goal"));
      gp.last_hash = u64(v[7], "goal");
      gp.outside_input = boolean(v[8], "goal");
      in.goals.push_back(std::move(gp));
    }
    const Obj* outbox = arr(x[10], SIZE_MAX, "outbox");
    for (uint32_t i = 0; i < x[10].via.array.size; ++i) {
      const Obj* o = arr(outbox[i], 3, "outbox entry");
      OutboxEntry e;
      e.target.domain = domain_index(p, o[0]);
      e.target.id = id(o[1]);
      e.message = message(p, o[2], e.target.domain);
      in.outbox.push_back(std::move(e));
    }
    in.effects_in_flight = i64(x[11], "instance");
    in.last_fault = str(x[12], "instance");
    in.last_failed_effect = str(x[13], "instance");
    in.dead_letters = i64(x[14], "instance");
    if (format == 3) {
      const Obj* f = arr(x[15], 7, "fault");
      in.last_fault_info = std::make_unique<FaultInfo>();
      FaultInfo& info = *in.last_fault_info;
      info.where = str(f[0], "fault");
      info.kind = str(f[1], "fault");
      info.message = str(f[2], "fault");
      info.function = str(f[3], "fault");
      info.file = str(f[4], "fault");
      const uint64_t line = u64(f[5], "fault"), column = u64(f[6], "fault");
      if (info.kind.empty() || line > UINT32_MAX || column > UINT32_MAX) throw CodecError("malformed fault");
      info.line = static_cast<uint32_t>(line);
      info.column = static_cast<uint32_t>(column);
    }
    in.dirty = false;
    out = std::move(in);
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

std::string encode_message(const Message& m) {
  RecordPacker record;
  Packer& p = record.p;
  pack_message(p, m);
  return std::move(record.out);
}

bool decode_message(const Program& p, std::string_view bytes, uint32_t receiver_domain, Message& m, std::string& error) {
  try {
    msgpack::object_handle h = parse(bytes);
    m = message(p, h.get(), receiver_domain);
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

std::string mailbox_storage_key(const Program& program, const InstanceKey& key, bool high, uint64_t position) {
  return mailbox_storage_key(instance_storage_key(program, key), high, position);
}

std::string mailbox_storage_key(std::string_view instance_key, bool high, uint64_t position) {
  // `inst/` becomes `mbox/`.
  std::string k;
  k.reserve(instance_key.size() + 18);
  k += "mbox/";
  k += instance_key.substr(5);
  k += '/';
  k += high ? 'h' : 'n';
  append_hex_u64(position, k);
  return k;
}

bool parse_mailbox_key(std::string_view key, std::string& instance_key, bool& high, uint64_t& position) {
  // mbox/<domain>/<id> / <h|n> <16 hex digits>
  if (key.size() < 5 + 3 + 18 || key.substr(0, 5) != "mbox/") return false;
  std::string_view tail = key.substr(key.size() - 18);
  if (tail[0] != '/' || (tail[1] != 'h' && tail[1] != 'n')) return false;
  if (!parse_hex_u64(tail.substr(2), position)) return false;
  high = tail[1] == 'h';
  instance_key = "inst/" + std::string(key.substr(5, key.size() - 5 - 18));
  return true;
}

std::string encode_delivery(const InstanceKey& target, const Message& m) {
  std::string out;
  out.reserve(kSmallBuffer);
  append_delivery(target, m, out);
  return out;
}

void append_delivery(const InstanceKey& target, const Message& m, std::string& out) {
  StringSink buffer{out};
  Packer p(buffer);
  p.pack_array(3);
  p.pack(target.domain);
  pack_id(p, target.id);
  pack_message(p, m);
}

bool decode_delivery(const Program& p, std::string_view bytes, InstanceKey& target, Message& m, std::string& error) {
  try {
    msgpack::object_handle h = parse(bytes);
    const Obj* x = arr(h.get(), 3, "delivery");
    target.domain = domain_index(p, x[0]);
    target.id = id(x[1]);
    m = message(p, x[2], target.domain);
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

std::string instance_storage_key(const Program& p, const InstanceKey& key) {
  const std::string& domain = p.domains[key.domain].name;
  std::string k;
  k.reserve(5 + domain.size() + 2 + (key.id.tag() == Tag::String ? key.id.as_string().size() : 16));
  k += "inst/";
  k += domain;
  k += '/';
  if (key.id.tag() == Tag::Int) {
    // Sign bit flipped, big-endian: ints sort numerically after the default instance.
    uint64_t u = static_cast<uint64_t>(key.id.as_int()) ^ (uint64_t{1} << 63);
    k += '1';
    append_hex_u64(u, k);
  } else if (key.id.tag() == Tag::String) {
    k += '2';
    k += key.id.as_string();
  } else {
    k += '0';
  }
  return k;
}

std::string encode_intent(const Intent& in) {
  RecordPacker record;
  Packer& p = record.p;
  p.pack_array(12);
  p.pack(1);
  p.pack(in.tick);
  p.pack(in.index);
  p.pack(in.instance.domain);
  pack_id(p, in.instance.id);
  p.pack(in.effect);
  p.pack_array(static_cast<uint32_t>(in.args.size()));
  for (const auto& a : in.args) bin_value(p, a);
  if (in.idempotency_key.tag() == Tag::String) p.pack(in.idempotency_key.as_string());
  else p.pack_nil();
  p.pack(in.ordinal);
  p.pack(in.dispatches);
  p.pack(in.completed);
  if (in.completed || in.arrived) pack_outcome(p, in.outcome);
  else p.pack_nil();
  return std::move(record.out);
}

bool decode_intent(const Program& p, std::string_view bytes, Intent& out, std::string& error) {
  try {
    msgpack::object_handle h = parse(bytes);
    const Obj* x = arr(h.get(), 12, "intent");
    if (u64(x[0], "intent format") != 1) throw CodecError("unknown intent record format");
    Intent in;
    in.tick = i64(x[1], "intent");
    const uint64_t index = u64(x[2], "intent");
    if (index > UINT32_MAX) throw CodecError("malformed intent");
    in.index = static_cast<uint32_t>(index);
    in.instance.domain = domain_index(p, x[3]);
    in.instance.id = id(x[4]);
    const uint64_t effect = u64(x[5], "intent");
    if (effect >= p.effects.size()) throw CodecError("intent of an effect that is not in this program");
    in.effect = static_cast<uint32_t>(effect);
    const auto& params = p.effects[in.effect].params;
    const Obj* args = arr(x[6], params.size(), "intent arguments");
    for (size_t i = 0; i < params.size(); ++i) in.args.push_back(value(p, args[i], params[i].type, "intent argument"));
    if (x[7].type != msgpack::type::NIL) in.idempotency_key = Value::string(str(x[7], "idempotency key"));
    in.ordinal = u64(x[8], "intent");
    const uint64_t dispatches = u64(x[9], "intent");
    if (dispatches > UINT32_MAX) throw CodecError("malformed intent");
    in.dispatches = static_cast<uint32_t>(dispatches);
    in.completed = boolean(x[10], "intent");
    if (x[11].type != msgpack::type::NIL) in.outcome = outcome(p, x[11], in.effect);
    else if (in.completed) throw CodecError("a completed intent without its outcome");
    in.arrived = !in.completed && x[11].type != msgpack::type::NIL;
    out = std::move(in);
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

std::string intent_storage_key(int64_t tick, uint32_t index) {
  return "fx/" + hex_u64(static_cast<uint64_t>(tick)) + "/" + hex_u64(index);
}

std::string open_intent_storage_key(int64_t tick, uint32_t index) { return "fxo" + intent_storage_key(tick, index).substr(2); }

std::string encode_outcome(uint32_t effect, const std::string& intent, const EffectOutcome& o) {
  RecordPacker record;
  Packer& p = record.p;
  p.pack_array(3);
  p.pack(effect);
  p.pack(intent);
  pack_outcome(p, o);
  return std::move(record.out);
}

bool decode_outcome(const Program& p, std::string_view bytes, uint32_t& effect, std::string& intent, EffectOutcome& out,
                    std::string& error) {
  try {
    msgpack::object_handle h = parse(bytes);
    const Obj* x = arr(h.get(), 3, "outcome input");
    const uint64_t e = u64(x[0], "outcome input");
    if (e >= p.effects.size()) throw CodecError("an outcome of an effect that is not in this program");
    effect = static_cast<uint32_t>(e);
    intent = str(x[1], "outcome input");
    out = outcome(p, x[2], effect);
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

std::string encode_observation(uint32_t observation, const std::vector<Value>& args, const Value& v,
                               const std::string& failure) {
  RecordPacker record;
  Packer& p = record.p;
  p.pack_array(4);
  p.pack(observation);
  p.pack_array(static_cast<uint32_t>(args.size()));
  for (const auto& a : args) bin_value(p, a);
  if (failure.empty()) bin_value(p, v);
  else p.pack_nil();
  p.pack(failure);
  return std::move(record.out);
}

bool decode_observation(const Program& p, std::string_view bytes, uint32_t& observation, std::vector<Value>& args,
                        Value& v, std::string& failure, std::string& error) {
  try {
    msgpack::object_handle h = parse(bytes);
    const Obj* x = arr(h.get(), 4, "observation");
    const uint64_t o = u64(x[0], "observation");
    if (o >= p.observations.size()) throw CodecError("an observation that is not in this program");
    observation = static_cast<uint32_t>(o);
    const auto& params = p.observations[observation].params;
    const Obj* a = arr(x[1], params.size(), "observation arguments");
    args.clear();
    for (size_t i = 0; i < params.size(); ++i) args.push_back(value(p, a[i], params[i].type, "observation argument"));
    failure = str(x[3], "observation");
    if (failure.empty()) v = value(p, x[2], p.observations[observation].result, "observation value");
    else if (x[2].type != msgpack::type::NIL) throw CodecError("malformed observation");
    else v = Value();
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

}  // namespace ved::vm
