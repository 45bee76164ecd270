// The report model (report/run_summary.h) against result files from real runs
// (tests/data/results, made by tests/data/results/regenerate): what each step's status, attempts,
// times and lanes come out as, and how --run is chosen.
#include <doctest/doctest.h>

#include <algorithm>

#include "krdc/report/run_summary.h"
#include "krdc/runner/result_reader.h"
#include "krdc/util/errors.h"

using krdc::report::RunSummary;
using krdc::report::StepSummary;
using krdc::report::summarize_run;

namespace {

krdc::runner::ResultFile data(const std::string& name) {
  return krdc::runner::read_result_file(std::string(KRDC_SOURCE_DIR) + "/tests/data/results/" + name + ".results.jsonl");
}

const StepSummary& step(const RunSummary& run, const std::string& name) {
  auto it = std::find_if(run.steps.begin(), run.steps.end(), [&](const StepSummary& s) { return s.name == name; });
  REQUIRE_MESSAGE(it != run.steps.end(), "no step " << name);
  return *it;
}

}  // namespace

TEST_CASE("report model: a succeeded run has its header, every step, and two parallel lanes") {
  const auto run = summarize_run(data("succeeded"), "");
  CHECK(run.workflow == "pipeline");
  CHECK(run.status == "succeeded");
  CHECK(run.user == "root");
  CHECK_FALSE(run.krdc_version.empty());
  CHECK(run.params.contains("count_ms"));
  REQUIRE(run.duration_sec.has_value());
  CHECK(*run.duration_sec > 1.0);
  CHECK(run.planned_steps == 5);
  REQUIRE(run.steps.size() == 5);
  CHECK(run.steps.front().name == "prepare");
  for (const auto& s : run.steps) {
    INFO(s.name);
    CHECK(s.status == "succeeded");
    CHECK(s.executor == "process");
    CHECK(s.job.rfind("pid ", 0) == 0);
    CHECK(s.attempts == 1);
    REQUIRE(s.exit_code.has_value());
    CHECK(*s.exit_code == 0);
    CHECK(s.outputs.value("label", "") == s.name);
    CHECK(s.log.find("/" + s.name + "/attempt-1.log") != std::string::npos);
    REQUIRE(s.tries.size() == 1);
    CHECK(s.tries[0].end_sec >= s.tries[0].start_sec);
    CHECK(s.tries[0].end_sec <= run.span_sec);
  }
  // -j 2: align and count ran at once, so the timeline needs two lanes and they differ.
  CHECK(run.lanes == 2);
  CHECK(step(run, "align").tries[0].lane != step(run, "count").tries[0].lane);
  // The step started after prepare ended.
  CHECK(step(run, "align").tries[0].start_sec >= step(run, "prepare").tries[0].end_sec);
}

TEST_CASE("report model: a failed run shows the retry, the timeout and the skipped step") {
  const auto run = summarize_run(data("failed"), "");
  CHECK(run.status == "failed");
  const auto& check = step(run, "check");
  CHECK(check.status == "failed");
  CHECK(check.attempts == 2);
  REQUIRE(check.tries.size() == 2);
  CHECK(check.tries[0].status == "failed");  // the retry record closed the first attempt
  CHECK(check.tries[1].number == 2);
  CHECK(check.tries[1].start_sec >= check.tries[0].end_sec);
  REQUIRE(check.exit_code.has_value());
  CHECK(*check.exit_code == 3);
  CHECK(check.reason.find("code 3") != std::string::npos);
  const auto& count = step(run, "count");
  CHECK(count.status == "timed_out");
  CHECK(count.reason.find("timed out") != std::string::npos);
  const auto& publish = step(run, "publish");
  CHECK(publish.status == "skipped");
  CHECK(publish.tries.empty());
  CHECK_FALSE(publish.exit_code.has_value());
  CHECK(publish.reason.find("upstream") != std::string::npos);
}

TEST_CASE("report model: a cancelled run records cancelled steps and a cancelled footer") {
  const auto run = summarize_run(data("cancelled"), "");
  CHECK(run.status == "cancelled");
  CHECK(step(run, "align").status == "cancelled");
  CHECK(step(run, "publish").status == "skipped");
  CHECK(step(run, "prepare").status == "succeeded");
}

TEST_CASE("report model: a killed run is incomplete and its unfinished steps are lost") {
  const auto run = summarize_run(data("killed"), "");
  CHECK(run.status == "incomplete");
  CHECK_FALSE(run.duration_sec.has_value());
  const auto& align = step(run, "align");
  CHECK(align.status == "lost");
  CHECK(align.reason.find("never ended") != std::string::npos);
  REQUIRE(align.tries.size() == 1);
  CHECK(align.tries[0].status == "lost");
  // A lost attempt is drawn up to the run's last record, not to nowhere.
  CHECK(align.tries[0].end_sec == doctest::Approx(run.span_sec));
  REQUIRE(align.duration_sec.has_value());
  CHECK(*align.duration_sec > 0);
  CHECK(step(run, "prepare").status == "succeeded");
  // publish never started: the header says 5 steps, fewer were recorded.
  CHECK(run.planned_steps == 5);
  CHECK(run.steps.size() < 5);
}

TEST_CASE("report model: --resume's reused steps are marked reused; --run picks an earlier run") {
  const auto file = data("resumed");
  const auto runs = krdc::report::list_runs(file);
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].status == "failed");
  CHECK(runs[1].status == "succeeded");

  const auto latest = summarize_run(file, "");
  CHECK(latest.run_id == runs[1].run_id);
  for (const char* name : {"prepare", "align", "count", "check"}) {
    const auto& s = step(latest, name);
    INFO(name);
    CHECK(s.status == "reused");
    CHECK(s.attempts == 0);
    CHECK(s.tries.empty());
    CHECK(s.outputs.value("label", "") == name);
  }
  CHECK(step(latest, "publish").status == "succeeded");

  const auto first = summarize_run(file, runs[0].run_id);
  CHECK(first.status == "failed");
  CHECK(step(first, "publish").status == "failed");
  CHECK(step(first, "prepare").status == "succeeded");
}

TEST_CASE("report model: an unknown --run lists the valid ids") {
  const auto file = data("resumed");
  const auto runs = krdc::report::list_runs(file);
  try {
    summarize_run(file, "no-such-run");
    FAIL("expected InvalidInput");
  } catch (const krdc::InvalidInput& e) {
    const std::string what = e.what();
    CHECK(what.find("no-such-run") != std::string::npos);
    for (const auto& r : runs) CHECK(what.find(r.run_id) != std::string::npos);
  }
  CHECK_THROWS_AS(summarize_run(krdc::runner::parse_result_text(""), ""), krdc::InvalidInput);
}

TEST_CASE("report model: RFC 3339 times as krdc writes them, and nothing else") {
  const auto t = krdc::report::parse_rfc3339("1970-01-02T00:00:01.250Z");
  REQUIRE(t.has_value());
  CHECK(*t == doctest::Approx(86401.25));
  CHECK_FALSE(krdc::report::parse_rfc3339("1970-01-02T00:00:01Z").has_value());
  CHECK_FALSE(krdc::report::parse_rfc3339("1970-01-02T00:00:01.250Zjunk").has_value());
  CHECK_FALSE(krdc::report::parse_rfc3339("").has_value());
}

TEST_CASE("report model: overlapping attempts get different lanes, sequential ones share") {
  const std::string text =
      R"({"type":"run","event":"start","run":"r","workflow":"w","time":"2026-01-01T00:00:00.000Z"}
{"type":"step","event":"start","run":"r","step":"a","attempt":1,"executor":"process","time":"2026-01-01T00:00:00.000Z"}
{"type":"step","event":"start","run":"r","step":"b","attempt":1,"executor":"process","time":"2026-01-01T00:00:01.000Z"}
{"type":"step","event":"end","run":"r","step":"a","status":"succeeded","attempts":1,"exitCode":0,"time":"2026-01-01T00:00:02.000Z"}
{"type":"step","event":"start","run":"r","step":"c","attempt":1,"executor":"process","time":"2026-01-01T00:00:02.000Z"}
{"type":"step","event":"end","run":"r","step":"b","status":"succeeded","attempts":1,"exitCode":0,"time":"2026-01-01T00:00:03.000Z"}
{"type":"step","event":"end","run":"r","step":"c","status":"succeeded","attempts":1,"exitCode":0,"time":"2026-01-01T00:00:04.000Z"}
{"type":"run","event":"end","run":"r","status":"succeeded","durationSec":4.0,"time":"2026-01-01T00:00:04.000Z"}
)";
  const auto run = summarize_run(krdc::runner::parse_result_text(text), "r");
  REQUIRE(run.steps.size() == 3);
  CHECK(run.lanes == 2);
  CHECK(step(run, "a").tries[0].lane == 0);
  CHECK(step(run, "b").tries[0].lane == 1);
  CHECK(step(run, "c").tries[0].lane == 0);  // a ended the moment c started
  CHECK(step(run, "c").tries[0].start_sec == doctest::Approx(2.0));
  CHECK(run.span_sec == doctest::Approx(4.0));
}
