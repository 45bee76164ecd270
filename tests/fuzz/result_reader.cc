// The result-file reader: what `--resume`, `krdc attach` and `krdc report` do with a
// .results.jsonl file (which may be torn, hand-edited or another tool's): parse it, find the
// last run header, check whose runs it holds, and build the resume index.
#include "fuzz_support.h"
#include "krdc/runner/result_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = krdc::fuzz::text(data, size);
  krdc::fuzz::refused_or_ok([&] {
    const auto file = krdc::runner::parse_result_text(text);
    (void)file.last_header();
    krdc::fuzz::refused_or_ok([&] { krdc::runner::require_runs_of(file, "hello.results.jsonl", "hello"); });
    const krdc::runner::ResumeIndex index(file);
    for (const auto& r : file.records) {
      if (!r.contains("step") || !r["step"].is_string()) continue;
      (void)index.in_flight(r["step"].get<std::string>());
      (void)index.find(r["step"].get<std::string>(), r.value("inputsDigest", std::string()));
    }
  });
  return 0;
}
