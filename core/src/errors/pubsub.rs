//! Error texts of the pubsub family.

/// A RESP2 client in subscribed mode ran a command other than the few it may run.
pub fn subscribed_mode(command: &str) -> String {
    format!(
        "ERR Can't execute '{command}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / \
         RESET are allowed in this context"
    )
}
