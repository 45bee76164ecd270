#include "krdc/kube/field_mask.h"

namespace krdc::kube {

FieldMask::FieldMask(std::initializer_list<std::string_view> paths) {
  for (auto path : paths) add(path);
}

void FieldMask::add(std::string_view path) {
  FieldMask* at = this;
  for (;;) {
    const auto dot = path.find('.');
    auto [it, inserted] = at->fields_.try_emplace(std::string(path.substr(0, dot)));
    // A field already kept whole stays so. (A node made just now is empty only until the rest
    // of the path is added below it.)
    if (!inserted && it->second.keeps_all()) return;
    at = &it->second;
    if (dot == std::string_view::npos) {
      at->fields_.clear();  // the path ends here: the whole value
      return;
    }
    path.remove_prefix(dot + 1);
  }
}

const FieldMask* FieldMask::child(std::string_view key) const {
  if (keeps_all()) return this;
  auto it = fields_.find(key);
  return it == fields_.end() ? nullptr : &it->second;
}

}  // namespace krdc::kube
