//! One table of command handlers: the gateway registers each command once (the OTA is one of
//! them); everything else gets `unsupported_command`. Handlers get the command's `paras` and
//! the caller's context (`C`: whatever the application lends them, e.g. its OTA starter).

use alloc::boxed::Box;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::command::{self, Response};

/// A command handler: the command's `paras` and the context in, the response out.
pub type Handler<'h, C> =
    Box<dyn FnMut(&Map<alloc::string::String, Value>, &mut C) -> Response + 'h>;

/// The dispatch table.
pub struct Dispatcher<'h, C> {
    handlers: Vec<(&'static str, Handler<'h, C>)>,
}

impl<C> Default for Dispatcher<'_, C> {
    fn default() -> Self {
        Self { handlers: Vec::new() }
    }
}

impl<'h, C> Dispatcher<'h, C> {
    /// An empty table.
    pub fn new() -> Self {
        Self { handlers: Vec::new() }
    }

    /// Registers `handler` for `name` (a later registration of the same name replaces it).
    pub fn register(&mut self, name: &'static str, handler: Handler<'h, C>) {
        self.handlers.retain(|(n, _)| *n != name);
        self.handlers.push((name, handler));
    }

    /// Parses `payload` and runs its handler with `ctx`; every payload gets a response.
    pub fn handle(&mut self, payload: &[u8], ctx: &mut C) -> Response {
        let cmd = match command::parse(payload) {
            Ok(c) => c,
            Err(e) => return e.response(),
        };
        match self.handlers.iter_mut().find(|(n, _)| *n == cmd.name) {
            Some((_, h)) => h(&cmd.paras, ctx),
            None => Response::unsupported(&cmd.name),
        }
    }

    /// The registered command names.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.handlers.iter().map(|(n, _)| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::OtaUpgrade;

    #[test]
    fn commands_reach_their_handler_and_the_rest_is_answered() {
        let mut started: Vec<alloc::string::String> = alloc::vec::Vec::new();
        {
            let mut d: Dispatcher<'_, Vec<alloc::string::String>> = Dispatcher::new();
            d.register(
                command::OTA_UPGRADE,
                Box::new(|p, started| match OtaUpgrade::from_paras(p) {
                    Ok(o) => {
                        started.push(o.version);
                        OtaUpgrade::started()
                    }
                    Err(e) => OtaUpgrade::rejected("bad_request", Some(e)),
                }),
            );
            assert_eq!(d.names().collect::<Vec<_>>(), ["ota_upgrade"]);
            let ok = d.handle(
                br#"{"command_name":"ota_upgrade","paras":{"version":"1.0.1"}}"#,
                &mut started,
            );
            assert_eq!(ok, OtaUpgrade::started());
            let bad = d.handle(
                br#"{"command_name":"ota_upgrade","paras":{"version":true}}"#,
                &mut started,
            );
            assert_eq!((bad.result_code, bad.reason.as_deref()), (1, Some("bad_request")));
            let unknown = d.handle(br#"{"command_name":"reboot","paras":{}}"#, &mut started);
            assert_eq!(unknown, Response::unsupported("reboot"));
            let garbage = d.handle(b"\x00\x01", &mut started);
            assert_eq!(garbage.reason.as_deref(), Some("malformed_json"));
        }
        assert_eq!(started, ["1.0.1"]);
    }
}
