//! The notifications adapter of the example: logs what it would send.

use allocation_service::Notifications;

/// Logs notifications (a stand-in for e-mail).
#[derive(Clone, Copy, Debug, Default)]
pub struct LoggedNotifications;

impl Notifications for LoggedNotifications {
    async fn send(
        &self,
        destination: &str,
        message: &str,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        tracing::info!(destination, message, "notification sent");
        Ok(())
    }
}
