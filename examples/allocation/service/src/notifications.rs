//! The notifications port: how the service tells people things.

use std::future::Future;
use std::sync::{Arc, Mutex};

/// Sends a message to a destination (an e-mail address, a channel).
pub trait Notifications: Clone + Send + Sync + 'static {
    /// Sends `message` to `destination`.
    fn send(
        &self,
        destination: &str,
        message: &str,
    ) -> impl Future<Output = Result<(), Box<dyn std::error::Error + Send + Sync>>> + Send;
}

/// Notifications kept in memory, for tests.
#[derive(Clone, Debug, Default)]
pub struct RecordedNotifications {
    sent: Arc<Mutex<Vec<(String, String)>>>,
}

impl RecordedNotifications {
    /// What was sent, as `(destination, message)`.
    pub fn sent(&self) -> Vec<(String, String)> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Notifications for RecordedNotifications {
    async fn send(
        &self,
        destination: &str,
        message: &str,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.sent
            .lock()
            .map_err(|_| "the recorder is poisoned")?
            .push((destination.to_owned(), message.to_owned()));
        Ok(())
    }
}
