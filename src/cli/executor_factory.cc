#include "krdc/cli/executor_factory.h"

#include "krdc/exec/process/process_executor.h"

namespace krdc::cli {

exec::ExecutorSet make_executors(const ExecutorContext&) {
  exec::ExecutorSet executors;
  executors.add("process", std::make_unique<exec::ProcessExecutor>());
  return executors;
}

}  // namespace krdc::cli
