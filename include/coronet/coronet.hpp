#pragma once

/// The common API of coronet in one include.

#include <coronet/runtime/errc.hpp>
#include <coronet/runtime/event.hpp>
#include <coronet/runtime/join_handle.hpp>
#include <coronet/runtime/runtime.hpp>
#include <coronet/runtime/sleep.hpp>
#include <coronet/runtime/spawn_blocking.hpp>
#include <coronet/runtime/submit_to.hpp>
#include <coronet/runtime/task.hpp>
#include <coronet/runtime/with_timeout.hpp>
#include <coronet/runtime/yield.hpp>
