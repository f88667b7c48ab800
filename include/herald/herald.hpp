// herald/herald.hpp — everything herald's core offers, in one include.
#pragma once

#include <herald/action.hpp>
#include <herald/authorizer.hpp>
#include <herald/automation.hpp>
#include <herald/automation_json.hpp>
#include <herald/automation_manager.hpp>
#include <herald/clock.hpp>
#include <herald/engine.hpp>
#include <herald/error.hpp>
#include <herald/event.hpp>
#include <herald/firing.hpp>
#include <herald/integration.hpp>
#include <herald/integration_manager.hpp>
#include <herald/integration_store.hpp>
#include <herald/memory_storage.hpp>
#include <herald/pattern.hpp>
#include <herald/scope.hpp>
#include <herald/secret_manager.hpp>
#include <herald/secret_store.hpp>
#include <herald/storage.hpp>
#include <herald/template.hpp>
#include <herald/trigger.hpp>
#include <herald/trigger_state_store.hpp>
