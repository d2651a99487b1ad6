// Instances and messages as bytes for the store. Decoding checks every part against the
// program (field types, transition parameters, goal counts), so a damaged or foreign
// record is an error that names what is wrong.
#pragma once

#include <string>
#include <string_view>

#include "vm/runtime/instance.h"
#include "vm/runtime/intent.h"

namespace ved::vm {

std::string encode_instance(const Instance& instance);
bool decode_instance(const Program& program, std::string_view bytes, Instance& out, std::string& error);

// A message in a mailbox (its position is in its key).
std::string encode_message(const Message& message);
bool decode_message(const Program& program, std::string_view bytes, uint32_t receiver_domain, Message& message,
                    std::string& error);
// `mbox/<domain>/<id>/<lane><position>`: ordered by instance, then lane (high first),
// then position, which is the order of the queue.
std::string mailbox_storage_key(const Program& program, const InstanceKey& key, bool high, uint64_t position);
// The same, from the instance's storage key (instance_storage_key).
std::string mailbox_storage_key(std::string_view instance_key, bool high, uint64_t position);
// The instance's storage key, the lane and the position of a mailbox key.
bool parse_mailbox_key(std::string_view key, std::string& instance_key, bool& high, uint64_t& position);

// A message to `target`, with its target (pending deliveries between ticks).
std::string encode_delivery(const InstanceKey& target, const Message& message);
// The same, appended to `out`.
void append_delivery(const InstanceKey& target, const Message& message, std::string& out);
bool decode_delivery(const Program& program, std::string_view bytes, InstanceKey& target, Message& message,
                     std::string& error);

// The storage key of an instance: `inst/<domain>/<id>`, ordered as instances are.
std::string instance_storage_key(const Program& program, const InstanceKey& key);

// An intent record (`fx/<tick>/<index>`), checked against the effect's parameter and
// result types when decoded.
std::string encode_intent(const Intent& intent);
bool decode_intent(const Program& program, std::string_view bytes, Intent& out, std::string& error);
// `fx/<tick>/<index>` (hex, so keys sort as intents were emitted); `fxo/...` marks an open
// intent (no outcome journaled yet), so that recovery reads only those.
std::string intent_storage_key(int64_t tick, uint32_t index);
std::string open_intent_storage_key(int64_t tick, uint32_t index);

// The machine-readable part of journal records for inputs, so that replay feeds exactly
// what the run saw: an effect outcome (with its effect and intent id), an observation's
// arguments and value (with its observation).
std::string encode_outcome(uint32_t effect, const std::string& intent, const EffectOutcome& outcome);
bool decode_outcome(const Program& program, std::string_view bytes, uint32_t& effect, std::string& intent,
                    EffectOutcome& out, std::string& error);
std::string encode_observation(uint32_t observation, const std::vector<Value>& args, const Value& value,
                               const std::string& failure = "");
// `failure` is set (and `value` unit) when the sample failed.
bool decode_observation(const Program& program, std::string_view bytes, uint32_t& observation,
                        std::vector<Value>& args, Value& value, std::string& failure, std::string& error);

}  // namespace ved::vm
