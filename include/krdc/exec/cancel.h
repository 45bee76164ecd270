#pragma once
// Executors take the process-wide cancel token (util/interrupts.h) as exec::CancelToken; the
// type lives in util/cancel.h because the layers below the executors honour it too.
#include "krdc/util/cancel.h"

namespace krdc::exec {

using CancelToken = util::CancelToken;

}  // namespace krdc::exec
