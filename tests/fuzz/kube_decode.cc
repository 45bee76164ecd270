// The Kubernetes decoders: a watch stream split into lines by LineBuffer (fed in uneven chunks,
// as the network delivers it) and each line through WatchDecoder::decode, with the masks the
// kube executor uses and with none; the whole input as a list page and as one object; and as
// an error answer's body (api_error: the Status' reason and message).
#include "fuzz_support.h"
#include "krdc/kube/api_error.h"
#include "krdc/kube/watch.h"
#include "krdc/kube/watch_decoder.h"

namespace {
const krdc::kube::FieldMask kPodMask{"metadata.name", "metadata.uid", "metadata.resourceVersion",
                                     "metadata.annotations", "status.phase", "status.containerStatuses.state",
                                     "status.containerStatuses.name"};
const krdc::kube::FieldMask kJobMask{"metadata.name", "metadata.labels", "status.conditions.type",
                                     "status.conditions.status", "status.failed", "status.succeeded"};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = krdc::fuzz::text(data, size);
  krdc::kube::WatchDecoder decoder;

  krdc::kube::LineBuffer lines;
  size_t chunk = 1 + (size ? data[0] % 97 : 0);
  for (size_t at = 0; at < text.size(); at += chunk) {
    lines.feed(std::string_view(text).substr(at, chunk), [&](std::string_view line) {
      krdc::fuzz::refused_or_ok([&] { (void)decoder.decode(line, kPodMask); });
      krdc::fuzz::refused_or_ok([&] { (void)decoder.decode(line, kJobMask); });
      krdc::fuzz::refused_or_ok([&] { (void)decoder.decode(line); });
      return true;
    });
  }
  krdc::fuzz::refused_or_ok([&] { (void)decoder.decode_list(text, kPodMask); });
  krdc::fuzz::refused_or_ok([&] { (void)decoder.decode_object(text); });
  krdc::fuzz::refused_or_ok([&] { (void)krdc::kube::decode_watch_event(text, kJobMask); });
  for (long status : {403L, 409L, 422L, 500L}) {
    krdc::fuzz::refused_or_ok([&] { (void)krdc::kube::api_error("POST jobs in alice on kisti", status, text).what(); });
  }
  return 0;
}
