#pragma once
// Which fields of an API object a reader keeps. A waiting run decodes every change to its Jobs
// and Pods (kilobytes each) but decides on a few dozen values: building only those is most of
// what decoding costs. Paths are dotted ("status.containerStatuses.state"); a path keeps the
// whole value it names, and inside arrays the rest of the path applies to each element.
// The default mask keeps everything.
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

namespace krdc::kube {

class FieldMask {
 public:
  FieldMask() = default;
  FieldMask(std::initializer_list<std::string_view> paths);

  void add(std::string_view path);
  // Keeps everything from here down.
  bool keeps_all() const { return fields_.empty(); }
  // The mask for a field of this object, or nullptr when the field is dropped.
  const FieldMask* child(std::string_view key) const;

 private:
  std::map<std::string, FieldMask, std::less<>> fields_;
};

}  // namespace krdc::kube
