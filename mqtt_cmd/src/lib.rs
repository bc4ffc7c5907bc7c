//! The gateway's MQTT application layer, without any I/O: IoTDA-style topics, command parsing
//! with the C original's JSON, one dispatch table, responses, and the `$ota` events.
//!
//! Everything here takes bytes from the network and never panics on them: a malformed,
//! mistyped or oversized payload is an error value that becomes an error response.
//!
//! - [`topic`]: command, response and event topics (`$oc/devices/{id}/sys/...`).
//! - [`command`]: `{"command_name":..., "paras":{...}}` and the responses, in the original's
//!   shape: `{"result_code":0,"response_name":"ota_upgrade","paras":{"result":"ota_started"}}`.
//! - [`dispatch`]: the table of command handlers.
//! - [`event`]: `$ota` `version_query`, `firmware_upgrade`, and the `version_report` and
//!   `upgrade_progress_report` events.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

pub mod command;
pub mod dispatch;
pub mod event;
pub mod json;
pub mod topic;
