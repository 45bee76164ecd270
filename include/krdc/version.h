#pragma once
// krdc's version, from the CMake project version (see CMakeLists.txt).
#include "krdc/version_gen.h"
