#include "krdc/kube/watch_decoder.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "krdc/kube/field_mask.h"
#include "krdc/util/errors.h"

namespace krdc::kube {

namespace {

namespace od = simdjson::ondemand;
using nlohmann::json;

json to_json(od::value value);

json object_to_json(od::object object) {
  json out = json::object();
  for (auto field : object) {
    std::string key(field.unescaped_key().value());
    out[std::move(key)] = to_json(field.value());
  }
  return out;
}

json to_json(od::value value) {
  switch (value.type().value()) {
    case od::json_type::object:
      return object_to_json(value.get_object());
    case od::json_type::array: {
      json out = json::array();
      for (auto element : value.get_array()) out.push_back(to_json(element.value()));
      return out;
    }
    case od::json_type::string:
      return std::string(value.get_string().value());
    case od::json_type::boolean:
      return value.get_bool().value();
    case od::json_type::null:
      (void)value.is_null();
      return nullptr;
    case od::json_type::number:
      switch (value.get_number_type().value()) {
        case od::number_type::signed_integer: return value.get_int64().value();
        case od::number_type::unsigned_integer: return value.get_uint64().value();
        default: return value.get_double().value();
      }
  }
  return nullptr;
}

// Only what `keep` names is built; the rest (a Pod's spec and managedFields: most of its bytes)
// is skipped by the iterator without being unescaped or materialised.
json masked_to_json(od::value value, const FieldMask& keep) {
  if (keep.keeps_all()) return to_json(value);
  switch (value.type().value()) {
    case od::json_type::object: {
      json out = json::object();
      for (auto field : value.get_object()) {
        const std::string_view key = field.unescaped_key().value();
        if (const FieldMask* sub = keep.child(key)) out[std::string(key)] = masked_to_json(field.value(), *sub);
      }
      return out;
    }
    case od::json_type::array: {  // the mask applies to each element
      json out = json::array();
      for (auto element : value.get_array()) out.push_back(masked_to_json(element.value(), keep));
      return out;
    }
    default:
      return to_json(value);
  }
}

// An object (an event's, a list item, a response), as far as `keep` says; anything but a JSON
// object throws simdjson's INCORRECT_TYPE, which the callers turn into their own error.
json masked_object(od::value value, const FieldMask& keep) {
  if (value.type().value() != od::json_type::object) throw simdjson::simdjson_error(simdjson::INCORRECT_TYPE);
  return masked_to_json(value, keep);
}

[[noreturn]] void not_an_event(std::string_view line, std::string_view why) {
  throw UnreachableError(fmt::format("watch stream: not an event ({}): {}", why, std::string(line.substr(0, 120))));
}

}  // namespace

struct WatchDecoder::Impl {
  simdjson::ondemand::parser parser;
  std::string buffer;  // the text plus simdjson's padding

  od::document iterate(std::string_view text) {
    buffer.assign(text);
    buffer.append(simdjson::SIMDJSON_PADDING, '\0');
    return parser.iterate(simdjson::padded_string_view(buffer.data(), text.size(), buffer.size()));
  }
};

WatchDecoder::WatchDecoder() : impl_(std::make_unique<Impl>()) {}
WatchDecoder::~WatchDecoder() = default;

std::optional<WatchEvent> WatchDecoder::decode(std::string_view line, const FieldMask& keep) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  if (line.empty()) return std::nullopt;
  WatchEvent event;
  bool have_object = false;
  try {
    od::document doc = impl_->iterate(line);
    od::object top = doc.get_object();
    for (auto field : top) {
      const std::string_view key = field.unescaped_key().value();
      if (key == "type") {
        event.type = std::string(field.value().get_string().value());
      } else if (key == "object") {
        // An ERROR event's object is a Status, read whole; the API server sends "type" first.
        const bool whole = event.type.empty() || event.type == "ERROR";
        event.object = masked_object(field.value(), whole ? FieldMask{} : keep);
        have_object = true;
      }
    }
    // The whole line must be one JSON value: trailing garbage is a broken stream too.
    // (current_location() is out of bounds once the document has been read to its end)
    if (doc.current_location().error() == simdjson::SUCCESS) not_an_event(line, "trailing bytes");
  } catch (const simdjson::simdjson_error& e) {
    not_an_event(line, e.what());
  }
  if (event.type.empty() || !have_object) not_an_event(line, "no type or object");
  return event;
}

ObjectList WatchDecoder::decode_list(std::string_view body, const FieldMask& keep) {
  ObjectList list;
  try {
    od::document doc = impl_->iterate(body);
    for (auto field : doc.get_object()) {
      const std::string_view key = field.unescaped_key().value();
      if (key == "metadata") {
        for (auto m : field.value().get_object()) {
          const std::string_view mkey = m.unescaped_key().value();
          if (mkey == "resourceVersion") list.resource_version = std::string(m.value().get_string().value());
          if (mkey == "continue") list.continue_token = std::string(m.value().get_string().value());
        }
      } else if (key == "items") {
        for (auto item : field.value().get_array()) list.items.push_back(masked_object(item.value(), keep));
      }
    }
  } catch (const simdjson::simdjson_error& e) {
    throw UnreachableError(fmt::format("list response: not a list ({})", e.what()));
  }
  return list;
}

nlohmann::json WatchDecoder::decode_object(std::string_view body, const FieldMask& keep) {
  try {
    od::document doc = impl_->iterate(body);
    return masked_object(doc.get_value(), keep);
  } catch (const simdjson::simdjson_error& e) {
    throw UnreachableError(fmt::format("response: not a JSON object ({})", e.what()));
  }
}

std::optional<WatchEvent> decode_watch_event(std::string_view line, const FieldMask& keep) {
  WatchDecoder decoder;
  return decoder.decode(line, keep);
}

}  // namespace krdc::kube
