// The app descriptor parser: load_app_descriptor on a krdc-app.yaml holding the input, as a
// workflow's `app: DIR` reaches it. The file lives in a private temporary directory (the
// descriptor API takes a path; writing a small file costs little next to parsing it).
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "fuzz_support.h"
#include "krdc/workflow/app_loader.h"

namespace {
std::string make_dir() {
  std::string templ = "/tmp/krdc-fuzz-app-XXXXXX";
  if (!mkdtemp(templ.data())) std::abort();
  return templ;
}
const std::string kDir = make_dir();
// The directory is removed when the fuzzer exits normally (a crash leaves it in /tmp).
struct Cleanup {
  ~Cleanup() {
    std::remove((kDir + "/krdc-app.yaml").c_str());
    rmdir(kDir.c_str());
  }
} cleanup;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(kDir + "/krdc-app.yaml", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) std::abort();
  }
  const krdc::workflow::SourceMark referenced_at{"wf.yaml", 3, 10};
  krdc::fuzz::refused_or_ok([&] { (void)krdc::workflow::load_app_descriptor(kDir, referenced_at); });
  return 0;
}
