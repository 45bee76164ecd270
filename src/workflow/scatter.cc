#include "krdc/workflow/scatter.h"

#include <fmt/format.h>

#include <stdexcept>

#include "krdc/util/errors.h"

namespace krdc::workflow {


std::string instance_name(const std::string& step, size_t index) { return fmt::format("{}[{}]", step, index); }

namespace {

// A list as written, or the list one ${{ }} reference names.
nlohmann::json resolve_list(const Step& step, const nlohmann::json& source, const std::string& what,
                            const Resolver& resolve) {
  nlohmann::json value;
  try {
    value = substitute(source, resolve);
  } catch (const std::invalid_argument& e) {
    throw InvalidInput(fmt::format("step \"{}\" {}: {}", step.name, what, e.what()));
  }
  if (!value.is_array()) {
    const std::string text = value.dump();
    throw InvalidInput(fmt::format("step \"{}\" {}: {} is {} {}, not a list", step.name, what,
                                   source.is_string() ? source.get<std::string>() : "the value", value.type_name(),
                                   text.size() > 60 ? text.substr(0, 60) + "…" : text),
                       "scatter over a list: forEach: [a, b], a list param, or a list output of an upstream step");
  }
  return value;
}

void check_count(const Step& step, size_t count) {
  if (count > kMaxInstances) {
    throw InvalidInput(fmt::format("step \"{}\" would run {} instances, more than the {} krdc allows", step.name,
                                   count, kMaxInstances),
                       "split the list, or check that the scatter names the list you meant");
  }
}

}  // namespace

nlohmann::json resolve_items(const Step& step, const Resolver& resolve) {
  if (step.scatter.kind == Scatter::Kind::kForEach) {
    return resolve_list(step, step.scatter.for_each, "forEach", resolve);
  }
  nlohmann::json axes = nlohmann::json::array();
  for (const auto& [axis, source] : step.scatter.matrix) {
    axes.push_back({axis, resolve_list(step, source, "matrix." + axis, resolve)});
  }
  return axes;
}

std::vector<Instance> expand(const Step& step, const nlohmann::json& items) {
  std::vector<Instance> out;
  if (step.scatter.kind == Scatter::Kind::kForEach) {
    check_count(step, items.size());
    out.reserve(items.size());
    for (size_t k = 0; k < items.size(); ++k) out.push_back({instance_name(step.name, k), items[k]});
    return out;
  }
  size_t total = 1;
  for (const auto& axis : items) {
    total *= axis[1].size();
    check_count(step, total);  // before multiplying further: no overflow, no huge allocation
  }
  out.reserve(total);
  for (size_t k = 0; k < total; ++k) {
    nlohmann::json item = nlohmann::json::object();
    size_t rest = k;
    for (size_t a = items.size(); a-- > 0;) {  // the last axis varies fastest
      const auto& values = items[a][1];
      item[items[a][0].get<std::string>()] = values[rest % values.size()];
      rest /= values.size();
    }
    out.push_back({instance_name(step.name, k), std::move(item)});
  }
  return out;
}

bool items_known_before_run(const Step& step) {
  auto known = [](const nlohmann::json& source) {
    for (const auto& ref : find_references(source)) {
      if (ref.kind != Reference::Kind::kParam) return false;
    }
    return true;
  };
  if (step.scatter.kind == Scatter::Kind::kForEach) return known(step.scatter.for_each);
  for (const auto& axis : step.scatter.matrix) {
    if (!known(axis.second)) return false;
  }
  return true;
}

std::string scatter_sources(const Step& step) {
  if (step.scatter.kind == Scatter::Kind::kForEach) return "forEach " + step.scatter.for_each.dump();
  std::string out = "matrix";
  for (const auto& [axis, source] : step.scatter.matrix) out += fmt::format(" {}={}", axis, source.dump());
  return out;
}

}  // namespace krdc::workflow
