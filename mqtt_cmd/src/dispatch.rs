//! One table of command handlers: the gateway registers each command once (the OTA is one of
//! them); everything else gets `unsupported_command`.

use alloc::boxed::Box;
use alloc::vec::Vec;

use serde_json::{Map, Value};

use crate::command::{self, Response};

/// A command handler: the command's `paras` in, the response out.
pub type Handler<'h> = Box<dyn FnMut(&Map<alloc::string::String, Value>) -> Response + Send + 'h>;

/// The dispatch table.
#[derive(Default)]
pub struct Dispatcher<'h> {
    handlers: Vec<(&'static str, Handler<'h>)>,
}

impl<'h> Dispatcher<'h> {
    /// An empty table.
    pub fn new() -> Self {
        Self { handlers: Vec::new() }
    }

    /// Registers `handler` for `name` (a later registration of the same name replaces it).
    pub fn register(&mut self, name: &'static str, handler: Handler<'h>) {
        self.handlers.retain(|(n, _)| *n != name);
        self.handlers.push((name, handler));
    }

    /// Parses `payload` and runs its handler; every payload gets a response.
    pub fn handle(&mut self, payload: &[u8]) -> Response {
        let cmd = match command::parse(payload) {
            Ok(c) => c,
            Err(e) => return e.response(),
        };
        match self.handlers.iter_mut().find(|(n, _)| *n == cmd.name) {
            Some((_, h)) => h(&cmd.paras),
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
        let mut started = alloc::vec::Vec::new();
        {
            let mut d = Dispatcher::new();
            d.register(
                command::OTA_UPGRADE,
                Box::new(|p| match OtaUpgrade::from_paras(p) {
                    Ok(o) => {
                        started.push(o.version);
                        OtaUpgrade::started()
                    }
                    Err(e) => OtaUpgrade::rejected("bad_request", Some(e)),
                }),
            );
            assert_eq!(d.names().collect::<Vec<_>>(), ["ota_upgrade"]);
            let ok = d.handle(br#"{"command_name":"ota_upgrade","paras":{"version":"1.0.1"}}"#);
            assert_eq!(ok, OtaUpgrade::started());
            let bad = d.handle(br#"{"command_name":"ota_upgrade","paras":{"version":true}}"#);
            assert_eq!((bad.result_code, bad.reason.as_deref()), (1, Some("bad_request")));
            let unknown = d.handle(br#"{"command_name":"reboot","paras":{}}"#);
            assert_eq!(unknown, Response::unsupported("reboot"));
            let garbage = d.handle(b"\x00\x01");
            assert_eq!(garbage.reason.as_deref(), Some("malformed_json"));
        }
        assert_eq!(started, ["1.0.1"]);
    }
}
