#include "api/openapi.h"

#include <string>

#ifndef PETIT_VERSION
#define PETIT_VERSION "0.0.0"
#endif

namespace petit::host {
namespace {

// Components first, then paths; "@VERSION@" is replaced by the build's version.
constexpr std::string_view kDocument = R"json({
"openapi": "3.0.3",
"info": {
  "title": "Petit HTTP API",
  "version": "@VERSION@",
  "description": "The original Petit's ten endpoints under /api (its shapes, status words and errors), Petit's own API under /api/v1, the event stream and Prometheus metrics. Times are epoch milliseconds (*_at), durations duration_ms; absent values are null. Errors are {\"error\": message, \"code\": CODE}. With tokens configured, send Authorization: Bearer <token>; the read-only token cannot trigger, cancel, retry, pause, resume or reload."
},
"components": {
  "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
  "parameters": {
    "JobId": {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}, "description": "A job id"},
    "RunId": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}, "description": "A run id (UUIDv7 text); malformed is 400 in /api/v1, 404 in /api"}
  },
  "responses": {
    "Error": {"description": "An error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
  },
  "schemas": {
    "Error": {"type": "object", "required": ["error", "code"], "properties": {
      "error": {"type": "string"},
      "code": {"type": "string", "enum": ["BAD_REQUEST", "UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "METHOD_NOT_ALLOWED", "CONFLICT", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "TOO_MANY_REQUESTS", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE"]}}},
    "CompatHealth": {"type": "object", "required": ["status", "version"], "properties": {
      "status": {"type": "string", "enum": ["ok"]}, "version": {"type": "string"}}},
    "CompatSchedulerState": {"type": "object", "required": ["state", "is_running", "is_paused"], "properties": {
      "state": {"type": "string", "enum": ["running", "paused", "stopped"]},
      "is_running": {"type": "boolean"}, "is_paused": {"type": "boolean"}}},
    "CompatMessage": {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}},
    "CompatJob": {"type": "object", "required": ["id", "name", "enabled", "scheduled", "task_count"], "properties": {
      "id": {"type": "string"}, "name": {"type": "string"}, "enabled": {"type": "boolean"},
      "scheduled": {"type": "boolean"}, "task_count": {"type": "integer"}}},
    "CompatJobList": {"type": "object", "required": ["jobs", "count"], "properties": {
      "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/CompatJob"}}, "count": {"type": "integer"}}},
    "CompatTriggered": {"type": "object", "required": ["run_id", "job_id", "message"], "properties": {
      "run_id": {"type": "string"}, "job_id": {"type": "string"}, "message": {"type": "string"}}},
    "CompatRun": {"type": "object", "required": ["id", "job_id", "status", "started_at", "ended_at", "duration_ms", "error"], "properties": {
      "id": {"type": "string"}, "job_id": {"type": "string"},
      "status": {"type": "string", "enum": ["pending", "running", "completed", "failed", "interrupted", "cancelled"]},
      "started_at": {"type": "integer"}, "ended_at": {"type": "integer", "nullable": true},
      "duration_ms": {"type": "integer", "nullable": true}, "error": {"type": "string", "nullable": true}}},
    "CompatRunList": {"type": "object", "required": ["runs", "count"], "properties": {
      "runs": {"type": "array", "items": {"$ref": "#/components/schemas/CompatRun"}}, "count": {"type": "integer"}}},
    "CompatTask": {"type": "object", "required": ["task_id", "run_id", "status", "attempts", "started_at", "ended_at", "duration_ms", "error"], "properties": {
      "task_id": {"type": "string"}, "run_id": {"type": "string"},
      "status": {"type": "string", "enum": ["pending", "running", "completed", "failed", "skipped"]},
      "attempts": {"type": "integer"}, "started_at": {"type": "integer", "nullable": true},
      "ended_at": {"type": "integer", "nullable": true}, "duration_ms": {"type": "integer", "nullable": true},
      "error": {"type": "string", "nullable": true}}},
    "CompatTaskList": {"type": "object", "required": ["tasks", "count"], "properties": {
      "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/CompatTask"}}, "count": {"type": "integer"}}},
    "Health": {"type": "object", "required": ["status", "version", "store", "scheduler", "active_runs"], "properties": {
      "status": {"type": "string", "enum": ["ok", "degraded"]}, "version": {"type": "string"},
      "store": {"type": "object", "required": ["reachable", "down_since_at", "pending_writes", "last_error"], "properties": {
        "reachable": {"type": "boolean"}, "down_since_at": {"type": "integer", "nullable": true},
        "pending_writes": {"type": "integer"}, "last_error": {"type": "string", "nullable": true}}},
      "scheduler": {"type": "object", "required": ["paused", "last_tick_at", "alive", "stopping"], "properties": {
        "paused": {"type": "boolean"}, "last_tick_at": {"type": "integer", "nullable": true},
        "alive": {"type": "boolean", "description": "the scheduler thread beat within the last 10 s (it beats every second when idle)"},
        "stopping": {"type": "boolean"}}},
      "active_runs": {"type": "integer"}}},
    "Scheduler": {"type": "object", "required": ["paused", "stopping", "jobs", "scheduled_jobs", "active_runs", "fired", "refused", "last_tick_at", "alive", "paused_jobs"], "properties": {
      "paused": {"type": "boolean"}, "stopping": {"type": "boolean"}, "jobs": {"type": "integer"},
      "scheduled_jobs": {"type": "integer"}, "active_runs": {"type": "integer"},
      "fired": {"type": "integer"}, "refused": {"type": "integer"},
      "last_tick_at": {"type": "integer", "nullable": true}, "alive": {"type": "boolean"},
      "paused_jobs": {"type": "array", "items": {"type": "string"}, "description": "ids of the jobs paused one by one, sorted"}}},
    "RunStatus": {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]},
    "TaskState": {"type": "string", "enum": ["pending", "queued", "running", "succeeded", "failed", "skipped", "upstream_failed", "cancelled", "interrupted"]},
    "Run": {"type": "object", "required": ["id", "job_id", "status", "trigger", "owner", "created_at", "started_at", "ended_at", "duration_ms", "error", "retries", "retried_at", "occurrence_at"], "properties": {
      "id": {"type": "string"}, "job_id": {"type": "string"}, "status": {"$ref": "#/components/schemas/RunStatus"},
      "trigger": {"type": "string", "description": "schedule, catch_up, manual, api, retry, recovery"},
      "owner": {"type": "string", "nullable": true, "description": "the host process driving it: hostname/pid/start time"},
      "created_at": {"type": "integer", "nullable": true}, "started_at": {"type": "integer", "nullable": true},
      "ended_at": {"type": "integer", "nullable": true}, "duration_ms": {"type": "integer", "nullable": true},
      "error": {"type": "string", "nullable": true}, "retries": {"type": "integer"},
      "retried_at": {"type": "integer", "nullable": true},
      "occurrence_at": {"type": "integer", "nullable": true, "description": "the schedule occurrence it stands for"}}},
    "RunPage": {"type": "object", "required": ["runs", "next_cursor"], "properties": {
      "runs": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}},
      "next_cursor": {"type": "string", "nullable": true, "description": "pass as cursor for the next page; null on the last"}}},
    "Task": {"type": "object", "required": ["task_id", "status", "attempts", "started_at", "ended_at", "duration_ms", "exit_code", "error"], "properties": {
      "task_id": {"type": "string"}, "status": {"$ref": "#/components/schemas/TaskState"},
      "attempts": {"type": "integer"}, "started_at": {"type": "integer", "nullable": true},
      "ended_at": {"type": "integer", "nullable": true}, "duration_ms": {"type": "integer", "nullable": true},
      "exit_code": {"type": "integer", "nullable": true}, "error": {"type": "string", "nullable": true}}},
    "TaskList": {"type": "object", "required": ["tasks", "count"], "properties": {
      "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}}, "count": {"type": "integer"}}},
    "Attempt": {"type": "object", "required": ["task_id", "attempt", "status", "queued_at", "started_at", "ended_at", "duration_ms", "exit_code", "error", "outputs"], "properties": {
      "task_id": {"type": "string"}, "attempt": {"type": "integer", "description": "from 1; 0 records a task that never ran"},
      "status": {"$ref": "#/components/schemas/TaskState"},
      "queued_at": {"type": "integer", "nullable": true}, "started_at": {"type": "integer", "nullable": true},
      "ended_at": {"type": "integer", "nullable": true}, "duration_ms": {"type": "integer", "nullable": true},
      "exit_code": {"type": "integer", "nullable": true}, "error": {"type": "string", "nullable": true},
      "outputs": {"type": "object", "additionalProperties": {"type": "string"}}}},
    "AttemptList": {"type": "object", "required": ["attempts", "count"], "properties": {
      "attempts": {"type": "array", "items": {"$ref": "#/components/schemas/Attempt"}}, "count": {"type": "integer"}}},
    "JobSummary": {"type": "object", "required": ["id", "name", "description", "enabled", "paused", "scheduled", "schedule", "timezone", "task_count", "max_active_runs", "next_fire_at", "last_success_at", "last_run"], "properties": {
      "id": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string", "nullable": true},
      "enabled": {"type": "boolean"}, "paused": {"type": "boolean"}, "scheduled": {"type": "boolean"},
      "schedule": {"type": "string", "nullable": true}, "timezone": {"type": "string", "nullable": true},
      "task_count": {"type": "integer"}, "max_active_runs": {"type": "integer", "description": "0 = unlimited"},
      "next_fire_at": {"type": "integer", "nullable": true}, "last_success_at": {"type": "integer", "nullable": true},
      "last_run": {"type": "object", "nullable": true, "required": ["id", "status", "started_at", "ended_at"], "properties": {
        "id": {"type": "string"}, "status": {"$ref": "#/components/schemas/RunStatus"},
        "started_at": {"type": "integer", "nullable": true}, "ended_at": {"type": "integer", "nullable": true}}}}},
    "JobList": {"type": "object", "required": ["jobs", "count"], "properties": {
      "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/JobSummary"}}, "count": {"type": "integer"}}},
    "JobDefinition": {"type": "object", "required": ["tasks", "config", "config_visible", "environment_visible", "overlap", "catch_up", "catch_up_limit", "max_parallel_tasks", "depends_on", "source_file"], "properties": {
      "tasks": {"type": "array", "items": {"type": "object", "required": ["id", "name", "type", "depends_on", "trigger_rule", "pools", "retry", "timeout_ms", "priority", "params"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"},
        "depends_on": {"type": "array", "items": {"type": "string"}},
        "trigger_rule": {"type": "string", "enum": ["all_success", "on_failure", "all_done", "always"]},
        "pools": {"type": "object", "additionalProperties": {"type": "integer"}, "description": "pool name to slots held"},
        "retry": {"type": "object", "properties": {"max_retries": {"type": "integer"}, "delay_ms": {"type": "integer"},
          "backoff_multiplier": {"type": "number"}, "max_delay_ms": {"type": "integer"}, "jitter": {"type": "number"}, "condition": {"type": "string"}}},
        "timeout_ms": {"type": "integer", "nullable": true}, "priority": {"type": "integer"},
        "params": {"type": "object", "description": "the plugin's parameters; values of environment are \"***\" unless the job lists environment in api_visible"}}}},
      "config": {"type": "object", "additionalProperties": {"type": "string"}, "description": "values are \"***\" unless the job lists config in api_visible"},
      "config_visible": {"type": "boolean"}, "environment_visible": {"type": "boolean"},
      "overlap": {"type": "string", "enum": ["skip", "queue", "cancel_previous"]},
      "catch_up": {"type": "string", "enum": ["none", "latest", "all"]}, "catch_up_limit": {"type": "integer"},
      "max_parallel_tasks": {"type": "integer"},
      "depends_on": {"type": "array", "items": {"type": "object", "properties": {"job": {"type": "string"}, "condition": {"type": "string"}, "window_seconds": {"type": "integer", "nullable": true}}}},
      "source_file": {"type": "string", "nullable": true}}},
    "JobDetail": {"allOf": [{"$ref": "#/components/schemas/JobSummary"}, {"type": "object", "required": ["definition", "next_fires_at"], "properties": {
      "definition": {"$ref": "#/components/schemas/JobDefinition"},
      "next_fires_at": {"type": "array", "items": {"type": "integer"}, "description": "up to 5; empty when the job does not fire (no schedule, disabled, paused)"}}}]},
    "TriggerRequest": {"type": "object", "additionalProperties": false, "properties": {
      "params": {"type": "object", "description": "config keys of the job to their values for this run; strings, or numbers and booleans taken as their JSON text", "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}}}},
    "Triggered": {"type": "object", "required": ["run_id", "job_id"], "properties": {"run_id": {"type": "string"}, "job_id": {"type": "string"}}},
    "Cancelling": {"type": "object", "required": ["run_id", "status"], "properties": {"run_id": {"type": "string"}, "status": {"type": "string", "enum": ["cancelling"]}}},
    "RetryRequest": {"type": "object", "additionalProperties": false, "properties": {
      "from": {"type": "string", "description": "this task and everything downstream run again"},
      "task": {"type": "string", "description": "only this task runs again"},
      "dry_run": {"type": "boolean", "description": "return the plan only"}}},
    "RetryPlanned": {"type": "object", "required": ["run_id", "job_id", "dry_run", "plan"], "properties": {
      "run_id": {"type": "string"}, "job_id": {"type": "string"}, "dry_run": {"type": "boolean"},
      "plan": {"type": "object", "required": ["tasks", "run_count", "keep_count", "text"], "properties": {
        "tasks": {"type": "array", "items": {"type": "object", "required": ["task_id", "action", "last_attempt", "last_state"], "properties": {
          "task_id": {"type": "string"}, "action": {"type": "string", "enum": ["run", "keep", "interrupted"]},
          "last_attempt": {"type": "integer"}, "last_state": {"type": "string", "nullable": true}}}},
        "run_count": {"type": "integer"}, "keep_count": {"type": "integer"}, "text": {"type": "string"}}}}},
    "ReloadSummary": {"type": "object", "required": ["added", "changed", "removed", "kept", "unchanged", "errors", "needs_restart"], "properties": {
      "added": {"type": "array", "items": {"type": "string"}}, "changed": {"type": "array", "items": {"type": "string"}},
      "removed": {"type": "array", "items": {"type": "string"}},
      "kept": {"type": "array", "items": {"type": "string"}, "description": "kept their previous definition: their file has errors"},
      "unchanged": {"type": "integer"}, "errors": {"type": "integer"},
      "needs_restart": {"type": "array", "items": {"type": "string"}}}},
    "Event": {"type": "object", "required": ["id", "type", "time_at", "job_id", "run_id", "task_id", "attempt", "detail"], "properties": {
      "id": {"type": "integer"}, "type": {"type": "string"}, "time_at": {"type": "integer"},
      "job_id": {"type": "string", "nullable": true}, "run_id": {"type": "string", "nullable": true},
      "task_id": {"type": "string", "nullable": true}, "attempt": {"type": "integer", "nullable": true},
      "detail": {"type": "string", "nullable": true}}},
    "LogPage": {"type": "object", "required": ["data", "offset", "next_offset", "complete"], "properties": {
      "data": {"type": "string"}, "offset": {"type": "integer"}, "next_offset": {"type": "integer"},
      "complete": {"type": "boolean", "description": "the attempt has ended and every byte was returned"}}}
  }
},
"security": [{"bearer": []}, {}],
"paths": {
  "/api/health": {"get": {"summary": "Liveness (the original's)", "tags": ["compat"], "security": [],
    "responses": {"200": {"description": "Up", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompatHealth"}}}}}}},
  "/api/scheduler/state": {"get": {"summary": "Scheduler state (the original's)", "tags": ["compat"],
    "responses": {"200": {"description": "State", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompatSchedulerState"}}}}}}},
  "/api/scheduler/pause": {"post": {"summary": "Pause the scheduler (the original's)", "tags": ["compat"],
    "responses": {"200": {"description": "{message: scheduler paused}", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompatMessage"}}}},
      "503": {"$ref": "#/components/responses/Error"}}}},
  "/api/scheduler/resume": {"post": {"summary": "Resume the scheduler (the original's)", "tags": ["compat"],
    "responses": {"200": {"description": "{message: scheduler resumed}", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompatMessage"}}}},
      "503": {"$ref": "#/components/responses/Error"}}}},
  "/api/jobs": {"get": {"summary": "List jobs (the original's)", "tags": ["compat"],
    "responses": {"200": {"description": "Jobs", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompatJobList"}}}}}}},
  "/api/jobs/{id}": {"get": {"summary": "One job (the original's)", "tags": ["compat"], "parameters": [{"$ref": "#/components/parameters/JobId"}],
    "responses": {"200": {"description": "The job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompatJob"}}}},
      "404": {"$ref": "#/components/responses/Error"}}}},
  "/api/jobs/{id}/trigger": {"post": {"summary": "Trigger a job (the original's)", "tags": ["compat"], "parameters": [{"$ref": "#/components/parameters/JobId"}],
    "responses": {"200": {"description": "Triggered", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompatTriggered"}}}},
      "404": {"$ref": "#/components/responses/Error"}, "429": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
  "/api/jobs/{id}/runs": {"get": {"summary": "A job's runs, newest first (the original's)", "tags": ["compat"],
    "parameters": [{"$ref": "#/components/parameters/JobId"}, {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 20, "minimum": 0, "maximum": 10000}}],
    "responses": {"200": {"description": "Runs", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompatRunList"}}}},
      "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
  "/api/runs/{id}": {"get": {"summary": "One run (the original's)", "tags": ["compat"], "parameters": [{"$ref": "#/components/parameters/RunId"}],
    "responses": {"200": {"description": "The run", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompatRun"}}}},
      "404": {"$ref": "#/components/responses/Error"}}}},
  "/api/runs/{id}/tasks": {"get": {"summary": "The tasks of a run (the original's)", "tags": ["compat"], "parameters": [{"$ref": "#/components/parameters/RunId"}],
    "responses": {"200": {"description": "Tasks", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CompatTaskList"}}}},
      "404": {"$ref": "#/components/responses/Error"}}}},

  "/api/v1/health": {"get": {"summary": "Health with its parts", "tags": ["v1"], "security": [],
    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
      "503": {"description": "degraded: the store does not answer, or the scheduler thread is stuck or stopping", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}},
  "/api/v1/scheduler": {"get": {"summary": "The scheduler's state and counters", "tags": ["v1"],
    "responses": {"200": {"description": "Scheduler", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Scheduler"}}}}}}},
  "/api/v1/scheduler/pause": {"post": {"summary": "Pause every schedule (manual triggers still run)", "tags": ["v1"],
    "responses": {"200": {"description": "Scheduler", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Scheduler"}}}},
      "503": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/scheduler/resume": {"post": {"summary": "Resume the schedules", "tags": ["v1"],
    "responses": {"200": {"description": "Scheduler", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Scheduler"}}}},
      "503": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/jobs": {"get": {"summary": "The jobs", "tags": ["v1"],
    "responses": {"200": {"description": "Jobs", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobList"}}}}}}},
  "/api/v1/jobs/{id}": {"get": {"summary": "One job with its definition and next fire times", "tags": ["v1"], "parameters": [{"$ref": "#/components/parameters/JobId"}],
    "responses": {"200": {"description": "The job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobDetail"}}}},
      "404": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/jobs/{id}/pause": {"post": {"summary": "Pause one job's schedule", "tags": ["v1"], "parameters": [{"$ref": "#/components/parameters/JobId"}],
    "responses": {"200": {"description": "The job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobSummary"}}}},
      "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/jobs/{id}/resume": {"post": {"summary": "Resume one job's schedule", "tags": ["v1"], "parameters": [{"$ref": "#/components/parameters/JobId"}],
    "responses": {"200": {"description": "The job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobSummary"}}}},
      "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/jobs/{id}/trigger": {"post": {"summary": "Run a job now, with config values for this run", "tags": ["v1"], "parameters": [{"$ref": "#/components/parameters/JobId"}],
    "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TriggerRequest"}}}},
    "responses": {"202": {"description": "Started or queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Triggered"}}}},
      "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "415": {"$ref": "#/components/responses/Error"},
      "429": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/runs": {"get": {"summary": "Runs across jobs, newest first, filtered, paged by cursor", "tags": ["v1"],
    "parameters": [
      {"name": "job", "in": "query", "schema": {"type": "string"}},
      {"name": "status", "in": "query", "schema": {"type": "string"}, "description": "comma-separated run statuses: failed,running"},
      {"name": "since", "in": "query", "schema": {"type": "integer"}, "description": "created at or after (epoch ms)"},
      {"name": "until", "in": "query", "schema": {"type": "integer"}, "description": "created before (epoch ms)"},
      {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 50, "minimum": 1, "maximum": 1000}},
      {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "next_cursor of the previous page"}],
    "responses": {"200": {"description": "A page", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RunPage"}}}},
      "400": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/runs/{id}": {"get": {"summary": "One run", "tags": ["v1"], "parameters": [{"$ref": "#/components/parameters/RunId"}],
    "responses": {"200": {"description": "The run", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Run"}}}},
      "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/runs/{id}/cancel": {"post": {"summary": "Cancel an active run", "tags": ["v1"], "parameters": [{"$ref": "#/components/parameters/RunId"}],
    "responses": {"202": {"description": "Asked; the run ends cancelled", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Cancelling"}}}},
      "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
      "409": {"description": "the run has ended, or another process drives it", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}},
  "/api/v1/runs/{id}/retry": {"post": {"summary": "Retry an ended run inside itself; the plan either way", "tags": ["v1"], "parameters": [{"$ref": "#/components/parameters/RunId"}],
    "requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RetryRequest"}}}},
    "responses": {"200": {"description": "The plan (dry_run)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RetryPlanned"}}}},
      "202": {"description": "Retrying, with the plan", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RetryPlanned"}}}},
      "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"},
      "409": {"description": "the run has not ended, or has nothing to retry", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "429": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/runs/{id}/tasks": {"get": {"summary": "The tasks of a run", "tags": ["v1"], "parameters": [{"$ref": "#/components/parameters/RunId"}],
    "responses": {"200": {"description": "Tasks", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TaskList"}}}},
      "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/runs/{id}/attempts": {"get": {"summary": "Every attempt of a run", "tags": ["v1"], "parameters": [{"$ref": "#/components/parameters/RunId"}],
    "responses": {"200": {"description": "Attempts", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AttemptList"}}}},
      "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/runs/{id}/tasks/{task}/attempts/{n}/logs": {"get": {"summary": "The captured output of one attempt, paged by byte offset, or followed live", "tags": ["v1"],
    "parameters": [{"$ref": "#/components/parameters/RunId"},
      {"name": "task", "in": "path", "required": true, "schema": {"type": "string"}},
      {"name": "n", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}},
      {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
      {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
      {"name": "tail", "in": "query", "schema": {"type": "integer", "minimum": 1}, "description": "the last N bytes instead of a page from offset"},
      {"name": "follow", "in": "query", "schema": {"type": "boolean"}, "description": "stream Server-Sent Events `log` (id: the byte offset after it) until the attempt has ended, then one `end`"}],
    "responses": {"200": {"description": "A page of the log (or, with follow, an event stream)", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/LogPage"}},
        "text/event-stream": {"schema": {"type": "string"}}}},
      "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/events": {"get": {"summary": "Server-Sent Events of run and task transitions, fires and refusals", "tags": ["v1"],
    "parameters": [{"name": "job", "in": "query", "schema": {"type": "string"}}, {"name": "run", "in": "query", "schema": {"type": "string"}, "description": "only this run's events; the stream ends after its job_completed"},
      {"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0}, "description": "replay the journal's events after this id (as Last-Event-ID)"},
      {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"}, "description": "resume after this event id"}],
    "responses": {"200": {"description": "id: <seq> / event: <type> / data: Event JSON, one blank line between events. Types: the engine's (task_queued, task_started, task_retrying, task_succeeded, task_failed, task_skipped, task_cancelled, job_started, job_completed, schedule_fired, trigger_refused), and `gap` when the journal no longer holds events the client asked for; `: ping` comments keep the connection alive", "content": {"text/event-stream": {"schema": {"type": "string"}}}},
      "400": {"$ref": "#/components/responses/Error"}, "404": {"$ref": "#/components/responses/Error"}, "503": {"$ref": "#/components/responses/Error"}}}},
  "/api/v1/reload": {"post": {"summary": "Re-read the job directory and petit.yaml (as SIGHUP)", "tags": ["v1"],
    "responses": {"200": {"description": "What changed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ReloadSummary"}}}},
      "503": {"$ref": "#/components/responses/Error"}}}},
  "/api/openapi.json": {"get": {"summary": "This document", "tags": ["meta"], "security": [],
    "responses": {"200": {"description": "OpenAPI 3.0", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
  "/metrics": {"get": {"summary": "Prometheus metrics (text exposition format)", "tags": ["meta"],
    "responses": {"200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}}
}
})json";

}  // namespace

std::string_view OpenApiDocument() {
  static const std::string document = [] {
    std::string text(kDocument);
    const std::string_view marker = "@VERSION@";
    text.replace(text.find(marker), marker.size(), PETIT_VERSION);
    return text;
  }();
  return document;
}

std::vector<Route> OpenApiRoutes() {
  return {{"GET", "/api/openapi.json", Access::kPublic,
           [](const ApiRequest&) { return JsonResponse(std::string(OpenApiDocument())); },
           "This OpenAPI document"}};
}

}  // namespace petit::host
