// The workflow loader + validator: what `krdc validate` and `krdc run` do with a file before
// anything runs (load_workflow checks shapes, names, needs, cycles, references and params
// against the apps). The file is named as if it were in workflows/, so `app: apps/greet` in a
// seed finds the repository's real descriptors.
//
// Input: the workflow text; optionally followed by a line "#%params" and `-p` lines KEY=VALUE.
#include "fuzz_support.h"
#include "krdc/workflow/loader.h"

namespace {
const std::string kFile = std::string(KRDC_SOURCE_DIR) + "/workflows/fuzz-input.yaml";
constexpr const char kParamsMarker[] = "\n#%params\n";
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text = krdc::fuzz::text(data, size);
  krdc::workflow::LoadOptions options;
  if (auto at = text.find(kParamsMarker); at != std::string::npos) {
    std::string rest = text.substr(at + sizeof(kParamsMarker) - 1);
    text.resize(at + 1);
    size_t start = 0;
    while (start <= rest.size()) {
      size_t end = rest.find('\n', start);
      if (end == std::string::npos) end = rest.size();
      const std::string line = rest.substr(start, end - start);
      if (auto eq = line.find('='); eq != std::string::npos) options.params[line.substr(0, eq)] = line.substr(eq + 1);
      start = end + 1;
    }
  }
  krdc::fuzz::refused_or_ok([&] { (void)krdc::workflow::load_workflow_text(text, kFile, options); });
  return 0;
}
